/*
 * The sync SDK: declare an app's synced tables, open a DeviceEngine with it, write plain SQL.
 * See the package README ("Add sync to your app").
 */
export { isCapturing, withCaptureOff } from "./capture.js";
export { fingerprint, type InstallResult, installApp } from "./install.js";
export { Materializer } from "./materialize.js";
export {
  DEFAULT_RETENTION,
  type QueueHealth,
  queueHealth,
  type RetentionBound,
} from "./retention.js";
export {
  defineSyncApp,
  type ResolvedApp,
  type ResolvedTable,
  resolveApp,
  type SyncApp,
  type SyncAppDeclaration,
  type SyncedTableDeclaration,
} from "./schema.js";
export { captureWrite, dryRunWrite } from "./write.js";
