import { EngineError } from "../errors.js";
import { MIGRATIONS, type Migration } from "./migrations.js";
import type { SqliteDatabase } from "./sqlite.js";

export interface MigrationResult {
  /** user_version before this run. */
  from: number;
  /** user_version after this run. */
  to: number;
  /** Names of the steps this run applied, in order (empty when already up to date). */
  applied: string[];
}

export function schemaVersion(db: SqliteDatabase): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/**
 * Brings the file up to the newest schema. Each step runs in its own IMMEDIATE transaction
 * together with its user_version bump, so a crash leaves the file at a whole step, and a
 * second process opening the same profile at the same moment waits, re-reads the version
 * and skips what the first one applied.
 */
export function migrate(
  db: SqliteDatabase,
  migrations: readonly Migration[] = MIGRATIONS,
): MigrationResult {
  assertWellFormed(migrations);
  const latest = migrations.at(-1)?.version ?? 0;
  const from = schemaVersion(db);
  if (from > latest) {
    throw new EngineError(
      "schema_too_new",
      `this profile was written by a newer Chorus (schema ${from}; this version knows up to ${latest}). Update Chorus to open it.`,
      { found: from, supported: latest },
    );
  }

  const applied: string[] = [];
  for (const migration of migrations) {
    if (migration.version <= from) continue;
    const ran = db
      .transaction(() => {
        if (schemaVersion(db) >= migration.version) return false;
        db.exec(migration.sql);
        // A PRAGMA takes no bound parameters; the version is checked to be an integer.
        db.pragma(`user_version = ${migration.version}`);
        return true;
      })
      .immediate();
    if (ran) applied.push(migration.name);
  }
  return { from, to: schemaVersion(db), applied };
}

function assertWellFormed(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (!Number.isSafeInteger(migration.version) || migration.version !== index + 1) {
      throw new Error(
        `migration "${migration.name}" has version ${migration.version}; expected ${index + 1}`,
      );
    }
  });
}
