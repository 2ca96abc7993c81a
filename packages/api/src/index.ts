// What other packages use, and nothing more: each name here has an importer outside this package
// (the sync server, the web app, tests, bench, chaos, system-tests).
export { runBlobGc } from "./blobs/gc.js";
export {
  BlobError,
  BlobService,
  type BlobSettings,
  DEFAULT_BLOB_SETTINGS,
} from "./blobs/service.js";
export { type BlobStore, DiskBlobStore } from "./blobs/store.js";
export type { ResourceBounds } from "./bounds.js";
export {
  type CompactionSettings,
  compactUser,
  DAY_MS,
  DEFAULT_COMPACTION_SETTINGS,
} from "./compaction/compact-user.js";
export type { CompactionProgress } from "./compaction/runner.js";
export type { Context, Principal, Services, SyncMetrics } from "./context.js";
export type { Diagnosis, Verdict } from "./diagnostics/explain.js";
export { Presence } from "./presence.js";
export {
  connectLimitStore,
  DEFAULT_RATE_LIMITS,
  type LimitedAction,
  type RateLimitConfig,
  type SharedLimitStore,
} from "./rate-limits.js";
export { type AppRouter, appRouter } from "./root.js";
export { SLOW_CONSUMER_BUFFER_BYTES } from "./routers/sync.js";
export { createServices } from "./services.js";
export { AckBuffer } from "./sync/ack-buffer.js";
export { type Bus, createInProcessBus, type OpsEvent } from "./sync/bus.js";
export {
  FANOUT_BIND,
  FANOUT_FAILED_CLOSE_CODE,
  FANOUT_REGISTERED,
  type FanoutSocket,
  Frames,
  Subscriber,
} from "./sync/fanout.js";
export { pushOps } from "./sync/ops-store.js";
export { createRedisBus } from "./sync/redis-bus.js";
export { internalErrorId } from "./trpc.js";
