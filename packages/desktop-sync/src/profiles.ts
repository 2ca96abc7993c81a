import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createLamportClock, type LamportClock } from "./clock.js";
import { type ProfileSummary, profileNameSchema } from "./contract.js";
import { EngineError } from "./errors.js";
import { readMeta, writeMeta } from "./store/meta.js";
import { openStore, type SqliteDatabase } from "./store/sqlite.js";

/**
 * Layout under the data dir:
 *   profiles/<name>/profile.db   the profile's SQLite file (WAL: plus -wal and -shm)
 * One folder per profile so that per-profile files (credentials, logs) can live beside it.
 */
const PROFILES_DIR = "profiles";
const DB_FILE = "profile.db";
/** Half-created profiles live under this prefix until they are complete; list ignores them. */
const STAGING_PREFIX = ".creating-";

export interface Profile {
  readonly name: string;
  readonly dir: string;
  readonly deviceId: string;
  readonly db: SqliteDatabase;
  readonly clock: LamportClock;
  close(): void;
}

export function profilesRoot(dataDir: string): string {
  return join(dataDir, PROFILES_DIR);
}

/**
 * Creates a profile with a fresh device id. The folder is built under a staging name and
 * renamed into place only when its database is complete, so a crash never leaves a profile
 * that lists but cannot open.
 */
export function createProfile(
  dataDir: string,
  name: string,
): ProfileSummary & { deviceId: string } {
  const profileName = parseProfileName(name);
  const root = profilesRoot(dataDir);
  const dir = join(root, profileName);
  if (existsSync(dir)) throw alreadyExists(profileName, dataDir);

  mkdirSync(root, { recursive: true });
  const staging = join(root, `${STAGING_PREFIX}${randomUUID()}`);
  mkdirSync(staging);
  const deviceId = randomUUID();
  try {
    const db = openStore(join(staging, DB_FILE), { create: true });
    try {
      db.transaction(() => writeMeta(db, "device_id", deviceId))();
    } finally {
      db.close();
    }
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another process created the same name between our check and the rename.
    if (isFsError(error, "ENOTEMPTY") || isFsError(error, "EEXIST")) {
      throw alreadyExists(profileName, dataDir);
    }
    throw error;
  }
  return { name: profileName, path: dir, deviceId };
}

/** Complete profiles, sorted by name. */
export function listProfiles(dataDir: string): ProfileSummary[] {
  const root = profilesRoot(dataDir);
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && profileNameSchema.safeParse(entry.name).success)
    .filter((entry) => existsSync(join(root, entry.name, DB_FILE)))
    .map((entry) => ({ name: entry.name, path: join(root, entry.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function openProfile(dataDir: string, name: string): Profile {
  const profileName = parseProfileName(name);
  const dir = join(profilesRoot(dataDir), profileName);
  const file = join(dir, DB_FILE);
  if (!existsSync(file)) {
    throw new EngineError(
      "profile_not_found",
      `no profile "${profileName}" in ${dataDir}; create it with \`profile create ${profileName}\``,
      { name: profileName, dataDir, available: listProfiles(dataDir).map((p) => p.name) },
    );
  }
  const db = openStore(file);
  const deviceId = readMeta(db, "device_id");
  if (!deviceId) {
    db.close();
    throw new EngineError("profile_corrupt", `profile "${profileName}" has no device id`, {
      name: profileName,
      file,
    });
  }
  return {
    name: profileName,
    dir,
    deviceId,
    db,
    clock: createLamportClock(db),
    close: () => db.close(),
  };
}

/**
 * Which profile a command means: the one asked for, else the only one there is.
 * Never guesses between several.
 */
export function selectProfileName(dataDir: string, requested: string | undefined): string {
  if (requested !== undefined) return parseProfileName(requested);
  const profiles = listProfiles(dataDir);
  const [only, ...others] = profiles;
  if (only && others.length === 0) return only.name;
  if (!only) {
    throw new EngineError(
      "profile_not_found",
      `there is no profile in ${dataDir} yet; create one with \`profile create <name>\``,
      { dataDir, available: [] },
    );
  }
  const names = profiles.map((p) => p.name);
  throw new EngineError(
    "profile_ambiguous",
    `${names.length} profiles exist (${names.join(", ")}); choose one with --profile <name>`,
    { dataDir, available: names },
  );
}

function parseProfileName(name: string): string {
  const parsed = profileNameSchema.safeParse(name);
  if (!parsed.success) {
    const reason = parsed.error.issues[0]?.message ?? "invalid name";
    throw new EngineError("invalid_profile_name", `invalid profile name "${name}": ${reason}`, {
      name,
    });
  }
  return parsed.data;
}

function alreadyExists(name: string, dataDir: string): EngineError {
  return new EngineError("profile_exists", `profile "${name}" already exists in ${dataDir}`, {
    name,
    dataDir,
  });
}

function isFsError(error: unknown, code: string): boolean {
  return error instanceof Error && "code" in error && error.code === code;
}
