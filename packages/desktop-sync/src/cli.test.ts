import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./cli/run.js";
import { diagnosticsSchema } from "./contract.js";
import { openProfile } from "./profiles.js";
import { makeTempDir } from "./test-support.js";

const CLI = fileURLToPath(new URL("./cli.ts", import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));

let temp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  temp = makeTempDir();
});
afterEach(() => temp.remove());

/** Runs the real CLI in a child process, the way QA and scripts run it. */
function cli(args: string[], env: Record<string, string> = {}) {
  const { CHORUS_DATA_DIR: _ignored, CHORUS_PROFILE: _alsoIgnored, ...inherited } = process.env;
  const result = spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], {
    cwd: PACKAGE_DIR,
    env: { ...inherited, ...env },
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("chorus-device CLI", () => {
  it("creates a profile and reports its status as JSON", () => {
    const created = cli(["profile", "create", "work", "--data-dir", temp.path, "--json"]);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    const { deviceId } = JSON.parse(created.stdout) as { deviceId: string };

    const status = cli(["status", "--json"], { CHORUS_DATA_DIR: temp.path });
    expect(status.code).toBe(0);
    expect(diagnosticsSchema.parse(JSON.parse(status.stdout))).toEqual({
      profile: "work",
      deviceId,
      mode: "hybrid",
      connection: "disabled",
      lamport: 0,
      pendingCount: 0,
      oldestPendingAgeMs: null,
      cursor: 0,
      lastError: null,
      lastSyncAt: null,
      quarantinedCount: 0,
      quarantined: [],
      account: null,
      resync: null,
    });

    const list = cli(["profile", "list", "--json", `--data-dir=${temp.path}`]);
    expect(JSON.parse(list.stdout)).toEqual([{ name: "work", path: expect.any(String) }]);
  });

  it("exits 1 with a JSON error naming the missing profile", () => {
    cli(["profile", "create", "work", "--data-dir", temp.path]);
    const result = cli(["status", "--profile", "home", "--json", "--data-dir", temp.path]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(JSON.parse(result.stderr)).toMatchObject({
      error: { code: "profile_not_found", name: "home", available: ["work"] },
    });
  });

  it("exits 1 with usage on an unknown command or option", () => {
    const unknown = cli(["frobnicate", "--data-dir", temp.path]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(unknown.stderr).toContain("Usage: chorus-device");

    const badOption = cli(["status", "--verbose", "--data-dir", temp.path]);
    expect(badOption.code).toBe(1);
    expect(badOption.stderr).toContain("--verbose");
  });

  it("edits the library offline and shows it, with --json everywhere", async () => {
    const env = { CHORUS_DATA_DIR: temp.path };
    // In-process (same runCli as the binary) to keep the suite fast.
    const cli = async (args: string[], extra: Record<string, string>) => {
      let stdout = "";
      let stderr = "";
      const code = await runCli(args, {
        stdout: (t) => {
          stdout += t;
        },
        stderr: (t) => {
          stderr += t;
        },
        env: extra,
        platform: "linux",
        homedir: temp.path,
        cwd: temp.path,
      });
      return { code, stdout, stderr };
    };
    await cli(["profile", "create", "home"], env);
    const playlist = JSON.parse(
      (await cli(["playlist", "create", "Road trip", "--json"], env)).stdout,
    );
    expect(playlist).toMatchObject({ name: "Road trip", uploaded: false });
    const track = JSON.parse(
      (await cli(["track", "add", "Intro", "--artist", "Band", "--json"], env)).stdout,
    );
    const first = JSON.parse(
      (await cli(["entry", "add", playlist.id, track.id, "--json"], env)).stdout,
    );
    const second = JSON.parse(
      (await cli(["entry", "add", playlist.id, track.id, "--before", first.id, "--json"], env))
        .stdout,
    );
    const shown = JSON.parse((await cli(["playlist", "show", playlist.id, "--json"], env)).stdout);
    expect(shown.entries.map((e: { id: string }) => e.id)).toEqual([second.id, first.id]);
    const moved = await cli(["entry", "move", second.id, "--to-end", "--json"], env);
    expect(moved.code).toBe(0);
    const status = JSON.parse((await cli(["status", "--json"], env)).stdout);
    expect(status).toMatchObject({ pendingCount: 5, lamport: 5 });
    const missing = await cli(["playlist", "rename", "nope", "x", "--json"], env);
    expect(JSON.parse(missing.stderr)).toMatchObject({ error: { code: "not_found" } });
  });

  it("exits 1 when profile create has no name", () => {
    const result = cli(["profile", "create", "--data-dir", temp.path, "--json"]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stderr)).toMatchObject({ error: { code: "usage" } });
  });

  it("status shows the quarantined changes with their reasons", async () => {
    const env = { CHORUS_DATA_DIR: temp.path };
    let stdout = "";
    const io = {
      stdout: (t: string) => {
        stdout += t;
      },
      stderr: () => {},
      env,
      platform: "linux" as const,
      homedir: temp.path,
      cwd: temp.path,
    };
    await runCli(["profile", "create", "home"], io);
    const profile = openProfile(temp.path, "home");
    profile.db
      .prepare(
        `INSERT INTO sync_quarantined_op (id, operation_id, lamport_ts, entity, entity_id, field, op, value, created_at, quarantined_at, reason)
         VALUES (1, 'op-1', 1, 'playlist', 'p1', 'name', 'set', NULL, 0, 0, 'value: contains U+0000 (NUL), which cannot be stored')`,
      )
      .run();
    profile.close();
    stdout = "";
    expect(await runCli(["status"], io)).toBe(0);
    expect(stdout).toContain("quarantined  1 (refused by the server for good");
    expect(stdout).toContain("playlist p1.name (set): value: contains U+0000");
  });
});
