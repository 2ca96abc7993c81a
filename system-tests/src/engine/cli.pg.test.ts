import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { CLI_ENTRY, runCliCaptured } from "@chorus/desktop-sync/testing";
import { waitFor, waitForExit } from "@chorus/testing";
import { describe, expect, it } from "vitest";
import { engineSuite } from "../support/engine-suite.js";

const suite = engineSuite({ temp: true });

async function cli(args: string[]) {
  const run = await runCliCaptured(
    [...args, "--data-dir", suite.temp.path, "--json"],
    suite.temp.path,
  );
  if (run.code !== 0) throw new Error(`chorus-device ${args.join(" ")} failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "null");
}

describe("the headless CLI against a real server", () => {
  it("bind-token, edit on one profile, and `watch` on another prints the change as it arrives", async () => {
    const account = await suite.backend.createAccount();
    const a = await account.device("a");
    const b = await account.device("b");
    await cli(["profile", "create", "a"]);
    await cli(["profile", "create", "b"]);
    const tokenA = await suite.backend.mint(account.userId, a.deviceId);
    const tokenB = await suite.backend.mint(account.userId, b.deviceId);
    expect(
      await cli([
        "bind-token",
        "--profile",
        "a",
        "--sync-url",
        suite.backend.syncUrl,
        "--token",
        tokenA,
      ]),
    ).toMatchObject({
      account: { userId: account.userId, signedIn: true },
    });
    await cli([
      "bind-token",
      "--profile",
      "b",
      "--sync-url",
      suite.backend.syncUrl,
      "--token",
      tokenB,
    ]);

    const watch = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        CLI_ENTRY,
        "watch",
        "--profile",
        "b",
        "--data-dir",
        suite.temp.path,
        "--json",
      ],
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
