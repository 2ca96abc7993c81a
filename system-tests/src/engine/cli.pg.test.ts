import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { CLI_ENTRY, makeTempDir, runCli } from "@chorus/desktop-sync/testing";
import { waitFor, waitForExit } from "@chorus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestBackend } from "../support/backend.js";

let backend: TestBackend;
let temp: ReturnType<typeof makeTempDir>;
beforeAll(async () => {
  backend = await TestBackend.start();
  temp = makeTempDir();
});
afterAll(async () => {
  temp?.remove();
  await backend?.close();
});

async function cli(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli([...args, "--data-dir", temp.path, "--json"], {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: {},
    platform: "linux",
    homedir: temp.path,
    cwd: temp.path,
  });
  if (code !== 0) throw new Error(`chorus-device ${args.join(" ")} failed: ${stderr}`);
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "null");
}

describe("the headless CLI against a real server", () => {
  it("bind-token, edit on one profile, and `watch` on another prints the change as it arrives", async () => {
    const account = await backend.createAccount();
    const a = await account.device("a");
    const b = await account.device("b");
    await cli(["profile", "create", "a"]);
    await cli(["profile", "create", "b"]);
    const tokenA = await backend.mint(account.userId, a.deviceId);
    const tokenB = await backend.mint(account.userId, b.deviceId);
    expect(
      await cli(["bind-token", "--profile", "a", "--sync-url", backend.syncUrl, "--token", tokenA]),
    ).toMatchObject({
      account: { userId: account.userId, signedIn: true },
    });
    await cli(["bind-token", "--profile", "b", "--sync-url", backend.syncUrl, "--token", tokenB]);

    const watch = spawn(
      process.execPath,
      ["--import", "tsx", CLI_ENTRY, "watch", "--profile", "b", "--data-dir", temp.path, "--json"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      const lines = createInterface({ input: watch.stdout });
      // Whether the watcher subscribes before or after the edit, the op reaches it: live, or
      // in the backfill from its cursor.
      const arrived = waitFor<Record<string, unknown>>("the op printed by watch", (resolve) => {
        const onLine = (line: string) => resolve(JSON.parse(line));
        lines.once("line", onLine);
        return () => lines.off("line", onLine);
      });
      const created = await cli(["playlist", "create", "From the CLI", "--profile", "a"]);
      expect(created).toMatchObject({ name: "From the CLI", uploaded: true });
      expect(await arrived).toMatchObject({
        entity: "playlist",
        entityId: created.id,
        op: "insert",
      });
    } finally {
      const exited = waitForExit(watch, "watch to stop after SIGTERM");
      watch.kill("SIGTERM");
      expect((await exited).code).toBe(0);
    }
    const synced = await cli(["sync", "--profile", "b"]);
    expect(synced).toMatchObject({ synced: true, status: { pendingCount: 0 } });
    const library = await cli(["library", "--profile", "b"]);
    expect(library.playlists.map((p: { name: string }) => p.name)).toEqual(["From the CLI"]);
  });
});
