export {
  fileKeyStore,
  type KeyStore,
  MASTER_KEY_FILE,
  memoryKeyStore,
  StoredAccountKey,
} from "./auth/key-store.js";
export { type BrowserSignInOptions, desktopLoginUrl, signInWithBrowser } from "./auth/loopback.js";
export { type Binding, refreshingSession } from "./auth/refreshing-session.js";
export { TokenResponse } from "./auth/token-endpoint.js";
export {
  CREDENTIALS_FILE,
  fileTokenStore,
  memoryTokenStore,
  StoredCredential,
  type TokenStore,
} from "./auth/token-store.js";
export type { BlobSweep } from "./blobs/blob-sync.js";
export { createLamportClock, type LamportClock } from "./clock.js";
export * from "./contract.js";
export { type DataDirInput, defaultDataDir, resolveDataDir } from "./data-dir.js";
export {
  formatAudit,
  formatDiagnosis,
  roughDuration,
  verdictText,
} from "./diagnostics/explain-text.js";
export { collectTelemetry, TelemetryReporter } from "./diagnostics/telemetry.js";
export type { ConvergenceAudit } from "./engine/convergence.js";
export { DeviceEngine, type EngineEvent, type EngineLog, type EngineOptions } from "./engine.js";
export { EngineError, isEngineError } from "./errors.js";
export { musicApp } from "./music/schema.js";
export {
  createProfile,
  listProfiles,
  openProfile,
  type Profile,
  profilesRoot,
  selectProfileName,
} from "./profiles.js";
export * from "./sdk/index.js";
export { readProfileStatus } from "./status.js";
export { type MigrationResult, migrate, schemaVersion } from "./store/migrate.js";
export { MIGRATIONS, type Migration } from "./store/migrations.js";
export { type OpenStoreOptions, openStore, type SqliteDatabase } from "./store/sqlite.js";
export type { DrainOutcome } from "./sync/drain.js";
export { type SyncSession, staticSession, tokenClaims } from "./sync/session.js";
export type { SyncTiming } from "./sync/sync-loop.js";
