export { createLamportClock, type LamportClock } from "./clock.js";
export * from "./contract.js";
export { type DataDirInput, defaultDataDir, resolveDataDir } from "./data-dir.js";
export { EngineError, isEngineError } from "./errors.js";
export {
  createProfile,
  listProfiles,
  openProfile,
  type Profile,
  profilesRoot,
  selectProfileName,
} from "./profiles.js";
export { readProfileStatus } from "./status.js";
export { type MigrationResult, migrate, schemaVersion } from "./store/migrate.js";
export { MIGRATIONS, type Migration } from "./store/migrations.js";
export { type OpenStoreOptions, openStore, type SqliteDatabase } from "./store/sqlite.js";
