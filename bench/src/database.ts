import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withDatabase } from "@chorus/db";
import { startEmbeddedPostgres } from "@chorus/db/embedded";
import { migrate } from "@chorus/db/migrate";
import pg from "pg";
import type { BenchEnv } from "./env.js";

/** A fresh, migrated database made for one bench run; drop() removes it (and its server). */
export interface BenchDatabase {
  readonly url: string;
  /** Where it lives, for the report. */
  readonly where: string;
  drop(): Promise<void>;
}

async function onServer(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function createBenchDatabase(env: BenchEnv): Promise<BenchDatabase> {
  const configured = env.BENCH_DATABASE_URL ?? env.TEST_DATABASE_URL;
  let serverUrl: string;
  let where: string;
  let stopServer = async () => {};
  if (configured) {
    serverUrl = configured;
    where = env.BENCH_DATABASE_URL ? "BENCH_DATABASE_URL" : "TEST_DATABASE_URL";
  } else {
    const parent = mkdtempSync(join(tmpdir(), "chorus-bench-pg-"));
    // The postgres system user must be able to reach the data folder inside.
    chmodSync(parent, 0o711);
    const server = await startEmbeddedPostgres({
      dataDir: join(parent, "data"),
      persistent: false,
    });
    serverUrl = server.url;
    where = "embedded Postgres (started for this run)";
    stopServer = async () => {
      await server.stop();
      rmSync(parent, { recursive: true, force: true });
    };
  }
  const name = `chorus_bench_${process.pid}_${randomBytes(4).toString("hex")}`;
  await onServer(serverUrl, `CREATE DATABASE "${name}"`);
  const url = withDatabase(serverUrl, name);
  try {
    await migrate(url);
  } catch (error) {
    await onServer(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await stopServer();
    throw error;
  }
  let dropped = false;
  return {
    url,
    where: `${where}, database ${name}`,
    async drop() {
      if (dropped) return;
      dropped = true;
      await onServer(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await stopServer();
    },
  };
}

/**
 * Another fresh database on the run database's server, migrated with the real migrations and
 * then changed by `transform` (SQL run after the migrations), for sections that compare two
 * schemas side by side. drop() removes it.
 */
export async function createSiblingDatabase(
  runDatabaseUrl: string,
  label: string,
  transform?: string,
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `chorus_bench_${process.pid}_${label}_${randomBytes(3).toString("hex")}`;
  await onServer(runDatabaseUrl, `CREATE DATABASE "${name}"`);
  const url = withDatabase(runDatabaseUrl, name);
  const drop = () => onServer(runDatabaseUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  try {
    await migrate(url, { log: () => {} });
    if (transform) await onServer(url, transform);
  } catch (error) {
    await drop();
    throw error;
  }
  return { url, name, drop };
}
