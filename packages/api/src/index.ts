export {
  type CompactionSettings,
  compactUser,
  DAY_MS,
  DEFAULT_COMPACTION_SETTINGS,
} from "./compaction/compact-user.js";
export type { CompactionProgress } from "./compaction/runner.js";
export type { Context, Principal, Services, SyncMetrics } from "./context.js";
export { Presence } from "./presence.js";
export type { RateLimitConfig } from "./rate-limits.js";
export { type AppRouter, appRouter } from "./root.js";
export { SLOW_CONSUMER_BUFFER_BYTES } from "./routers/sync.js";
export { createServices } from "./services.js";
export { AckBuffer } from "./sync/ack-buffer.js";
export { type Bus, createInProcessBus } from "./sync/bus.js";
export { pushOps } from "./sync/ops-store.js";
export { createRedisBus } from "./sync/redis-bus.js";
