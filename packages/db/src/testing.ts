import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { withDatabase } from "./database-url.js";
import { startEmbeddedPostgres } from "./embedded.js";
import { migrate } from "./migrate.js";

/**
 * Each test file gets its own fresh database on the server in TEST_DATABASE_URL (any database
 * on it: we only use it to CREATE and DROP ours). When unset, the vitest global setup starts an
 * embedded server for the run and sets TEST_DATABASE_URL for the workers.
 */
export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

function serverUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      "TEST_DATABASE_URL is not set: run tests through vitest (its global setup starts an embedded Postgres) or point it at a server",
    );
  }
  return url;
}

async function onServer<T>(server: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database (migrated unless `migrated: false`) on `serverUrl`, by default the server in
 * TEST_DATABASE_URL; drop() removes it.
 */
export async function createTestDatabase(
  options: { migrated?: boolean; serverUrl?: string } = {},
): Promise<TestDatabase> {
  const server = options.serverUrl ?? serverUrl();
  const name = `chorus_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  await onServer(server, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = withDatabase(server, name);
  if (options.migrated ?? true) await migrate(url);
  return {
    url,
    name,
    drop: () =>
      onServer(server, (client) =>
        client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
      ).then(() => {}),
  };
}

/** Vitest global setup: provide a server for the whole run when none is configured. */
export async function setupTestServer(): Promise<() => Promise<void>> {
  if (process.env.TEST_DATABASE_URL) return async () => {};
  const dataDir = join(mkdtempSync(join(tmpdir(), "chorus-test-pg-")), "data");
  const server = await startEmbeddedPostgres({ dataDir, persistent: false });
  process.env.TEST_DATABASE_URL = server.url;
  return () => server.stop();
}
