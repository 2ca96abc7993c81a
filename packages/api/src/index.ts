export {
  Bounds,
  DEFAULT_RESOURCE_BOUNDS,
  PUSH_BUSY_RETRY_MS,
  type ResourceBounds,
} from "./bounds.js";
export {
  type CompactionSettings,
  compactUser,
  DAY_MS,
  DEFAULT_COMPACTION_SETTINGS,
} from "./compaction/compact-user.js";
export type { DevicePosition } from "./compaction/positions.js";
export {
  type CompactionProgress,
  type RunOptions,
  type RunResult,
  runCompaction,
} from "./compaction/runner.js";
export type {
  CompactionService,
  Context,
  Principal,
  Services,
  SocketLike,
  SyncMetrics,
} from "./context.js";
export { noopMetrics } from "./context.js";
export { LastSeenWriter } from "./devices/last-seen.js";
export {
  type DeviceRef,
  markDeviceRevoked,
  type RevocationServices,
  revokeDevice,
} from "./devices/revoke.js";
export { DeviceStatusCache } from "./devices/status-cache.js";
export { Presence } from "./presence.js";
export {
  connectLimitStore,
  DEFAULT_RATE_LIMITS,
  type LimitedAction,
  type RateLimitConfig,
  RateLimits,
  type SharedLimitStore,
} from "./rate-limits.js";
export { type AppRouter, appRouter } from "./root.js";
export { SLOW_CONSUMER_BUFFER_BYTES, SLOW_CONSUMER_CLOSE_CODE } from "./routers/sync.js";
export { type CreateServicesOptions, createServices } from "./services.js";
export { AckBuffer, type BufferedAck } from "./sync/ack-buffer.js";
export {
  type AckFlushOutcome,
  type Bus,
  type ControlEvent,
  createInProcessBus,
  type OpsEvent,
} from "./sync/bus.js";
export { type PushOutcome, pushOps, readOps } from "./sync/ops-store.js";
export { createRedisBus, type RedisBusOptions } from "./sync/redis-bus.js";
export { createCallerFactory, internalErrorId } from "./trpc.js";
