import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@chorus/db/testing";
import { waitForExit } from "@chorus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYNC_SERVER_ENV } from "../src/node-flags.js";
import { SyncServerProcess, spawnSyncServer } from "../src/testing.js";

const devKeyFile = join(mkdtempSync(join(tmpdir(), "chorus-key-")), "dev-signing-key.json");
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

const settings = () => ({
  entry: "source" as const,
  baseEnv: "clean" as const,
  env: { DATABASE_URL: db.url, LOG_LEVEL: "silent", CHORUS_DEV_KEY_FILE: devKeyFile },
});

describe("the sync server test harness (@chorus/sync-server/testing)", () => {
  it("starts on port 0, learns the port over IPC, restarts on the same port after a kill and stops cleanly", async () => {
    const server = new SyncServerProcess(settings());
    await server.start();
    try {
      expect(server.port).toBeGreaterThan(0);
      expect((await fetch(`${server.url}/healthz`)).ok).toBe(true);
      const port = server.port;

      expect(await server.kill()).toEqual({ code: null, signal: "SIGKILL" });
      expect(server.running).toBe(false);
      await server.start();
      expect(server.port).toBe(port);
      expect((await fetch(`${server.url}/healthz`)).ok).toBe(true);

      // SIGTERM: the graceful shutdown ends with exit code 0.
      expect(await server.stop()).toEqual({ code: 0, signal: null });
    } finally {
      await server.kill();
    }
  });

  it("a server started over IPC shuts down when its parent goes away", async () => {
    const spawned = spawnSyncServer(settings());
    await spawned.listening;
    try {
      const exited = waitForExit(spawned.child, "the server to exit once its parent is gone");
      spawned.child.disconnect();
      expect(await exited).toEqual({ code: 0, signal: null });
    } finally {
      spawned.child.kill("SIGKILL"); // a no-op once it has exited
    }
  });

  it.runIf(process.platform === "linux")(
    "starts the server with the production allocator settings in its environment, over a clean one",
    async () => {
      const spawned = spawnSyncServer(settings());
      try {
        await spawned.listening;
        // What the process was started with: glibc reads these only then.
        const environ = readFileSync(`/proc/${spawned.child.pid}/environ`, "utf8").split("\0");
        for (const [name, value] of Object.entries(SYNC_SERVER_ENV)) {
          expect(environ).toContain(`${name}=${value}`);
        }
      } finally {
        spawned.child.kill("SIGKILL");
      }
    },
  );
});
