import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@chorus/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const mainTs = new URL("../src/main.ts", import.meta.url).pathname;
const devKeyFile = join(mkdtempSync(join(tmpdir(), "chorus-key-")), "dev-signing-key.json");

/** Runs the real entry point and collects how it ends. */
function runServer(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", mainTs], {
      env: {
        PATH: process.env.PATH ?? "",
        LOG_LEVEL: "silent",
        CHORUS_DEV_KEY_FILE: devKeyFile,
        ...env,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr: stderr.trim() });
    });
  });
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
      const { code, stderr } = await runServer({ DATABASE_URL: db.url, SYNC_PORT: String(port) });
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
      SYNC_PORT: "0",
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /cannot reach the database at postgresql:\/\/chorus@127\.0\.0\.1:1\/chorus/,
    );
  });
});
