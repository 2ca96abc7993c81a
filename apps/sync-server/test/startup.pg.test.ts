import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@chorus/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SyncServerExitError, spawnSyncServer } from "../src/testing.js";

const devKeyFile = join(mkdtempSync(join(tmpdir(), "chorus-key-")), "dev-signing-key.json");

/**
 * Runs the real entry point and collects how it ends: these settings must stop start-up, so
 * the harness's start-up wait must end with the child's exit (it fails at once when the child
 * exits, and only a hang reaches its 60 s bound).
 */
async function runServer(
  env: Record<string, string>,
  port = 0,
): Promise<{ code: number | null; stderr: string }> {
  const server = spawnSyncServer({
    entry: "source",
    baseEnv: "clean",
    env: { LOG_LEVEL: "silent", CHORUS_DEV_KEY_FILE: devKeyFile, ...env },
    port,
  });
  try {
    await server.listening;
  } catch (error) {
    if (error instanceof SyncServerExitError)
      return { code: error.status.code, stderr: error.stderr };
    throw error;
  }
  server.child.kill("SIGKILL");
  throw new Error("the sync server started, but these settings should have stopped it");
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe("bad settings stop start-up with one clear message", () => {
  it("refuses a malformed DATABASE_URL", async () => {
    const { code, stderr } = await runServer({ DATABASE_URL: "not a url" });
    expect(code).toBe(1);
    expect(stderr.split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/DATABASE_URL is not a valid URL/);
  });

  it("refuses a missing DATABASE_URL", async () => {
    const { code, stderr } = await runServer({});
    expect(code).toBe(1);
    expect(stderr).toMatch(/DATABASE_URL is not set/);
  });

  it("refuses a port that is already in use", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stderr } = await runServer({ DATABASE_URL: db.url }, port);
      expect(code).toBe(1);
      expect(stderr.split("\n")).toHaveLength(1);
      expect(stderr).toBe(`chorus sync-server: SYNC_PORT ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });

  it("refuses an unreachable database", async () => {
    const { code, stderr } = await runServer({
      DATABASE_URL: "postgresql://chorus@127.0.0.1:1/chorus",
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /cannot reach the database at postgresql:\/\/chorus@127\.0\.0\.1:1\/chorus/,
    );
  });
});
