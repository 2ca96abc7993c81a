import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, USAGE } from "./cli/run.js";
import { diagnosticsSchema } from "./contract.js";
import { openProfile } from "./profiles.js";
import { quarantine } from "./queue.js";
import { makeTempDir } from "./test-support.js";
import { runCliCaptured } from "./testing/cli.js";

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
      pending: [],
      overwrittenCount: 0,
      account: null,
      resync: null,
      revokedAt: null,
    });

    const conflicts = cli(["conflicts", "--json", "--all"], { CHORUS_DATA_DIR: temp.path });
    expect(conflicts.code).toBe(0);
    expect(JSON.parse(conflicts.stdout)).toEqual([]);
    expect(cli(["conflicts"], { CHORUS_DATA_DIR: temp.path }).stdout).toBe(
      "No overwritten values\n",
    );
    const dismissed = cli(["conflicts", "dismiss", "--json"], { CHORUS_DATA_DIR: temp.path });
    expect(JSON.parse(dismissed.stdout)).toEqual({ dismissed: 0 });

    const list = cli(["profile", "list", "--json", `--data-dir=${temp.path}`]);
    expect(JSON.parse(list.stdout)).toEqual([{ name: "work", path: expect.any(String) }]);
  });

  it("says the id profile create prints is local, to be replaced by the server's at sign-in", async () => {
    let out = "";
    const io = {
      stdout: (text: string) => {
        out += text;
      },
      stderr: () => {},
      env: {},
      platform: "linux" as const,
      homedir: temp.path,
      cwd: temp.path,
    };
    expect(await runCli(["profile", "create", "laptop", "--data-dir", temp.path], io)).toBe(0);
    expect(out).toMatch(
      /Local device id [0-9a-f-]{36}: .*signing in replaces it with the id the server assigns/,
    );
    out = "";
    expect(await runCli(["status", "--data-dir", temp.path], io)).toBe(0);
    expect(out).toMatch(/device id +[0-9a-f-]{36} \(local; signing in replaces it/);
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
    const cli = (args: string[], extra: Record<string, string>) =>
      runCliCaptured(args, temp.path, { env: extra });
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

  it("refuses an input the command table's schema refuses, before anything is written", async () => {
    let stderr = "";
    const io = {
      stdout: () => {},
      stderr: (t: string) => {
        stderr += t;
      },
      env: { CHORUS_DATA_DIR: temp.path },
      platform: "linux" as const,
      homedir: temp.path,
      cwd: temp.path,
    };
    await runCli(["profile", "create", "home"], io);
    stderr = "";
    const code = await runCli(["track", "add", "Intro", "--duration-ms", "soon", "--json"], io);
    expect(code).toBe(1);
    expect(JSON.parse(stderr)).toMatchObject({
      error: { code: "invalid_input", message: expect.stringContaining("durationMs") },
    });
    stderr = "";
    expect(await runCli(["profile", "create", "Bad Name", "--json"], io)).toBe(1);
    expect(JSON.parse(stderr)).toMatchObject({ error: { code: "invalid_profile_name" } });
    const profile = openProfile(temp.path, "home");
    try {
      expect(profile.db.prepare("SELECT COUNT(*) FROM sync_pending_op").pluck().get()).toBe(0);
    } finally {
      profile.close();
    }
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

describe("the outbox and a field's history on the command line", () => {
  it("lists waiting and refused changes with ids, retries one, discards one (reverting it), says not_found for an unknown id", async () => {
    const env = { CHORUS_DATA_DIR: temp.path };
    const cli = (...args: string[]) => runCliCaptured(args, temp.path, { env });
    await cli("profile", "create", "home");
    const playlist = JSON.parse((await cli("playlist", "create", "Mix", "--json")).stdout);
    await cli("playlist", "rename", playlist.id, "Road trip");
    // The rename is set aside as the server would after refusing it for good.
    const profile = openProfile(temp.path, "home");
    const rename = profile.db
      .prepare("SELECT id, operation_id FROM sync_pending_op WHERE op = 'set'")
      .get() as { id: number; operation_id: string };
    profile.db.transaction(() =>
      quarantine(profile.db, [{ id: rename.id, reason: "HTTP 400" }], 1),
    )();
    profile.close();

    const outbox = await cli("outbox");
    expect(outbox.code).toBe(0);
    expect(outbox.stdout).toContain("waiting  1");
    expect(outbox.stdout).toContain(`${rename.operation_id}  playlist ${playlist.id}.name (set)`);
    expect(outbox.stdout).toContain(": HTTP 400");
    const listed = JSON.parse((await cli("outbox", "--json")).stdout);
    expect(listed.quarantined).toMatchObject([
      { operationId: rename.operation_id, reason: "HTTP 400" },
    ]);

    const retried = JSON.parse(
      (await cli("outbox", "retry", rename.operation_id, "--json")).stdout,
    );
    expect(retried).toMatchObject({ operationId: rename.operation_id, outcome: "requeued" });
    expect(JSON.parse((await cli("status", "--json")).stdout)).toMatchObject({
      pendingCount: 2,
      quarantinedCount: 0,
    });

    const discarded = await cli("outbox", "discard", rename.operation_id);
    expect(discarded.stdout).toContain("the items it changed show the server's values again");
    const shown = JSON.parse((await cli("playlist", "show", playlist.id, "--json")).stdout);
    expect(shown.name).toBe("Mix");

    const unknown = await cli("outbox", "retry", "no-such-change", "--json");
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stderr)).toMatchObject({
      error: { code: "not_found", message: expect.stringContaining("no-such-change") },
    });
    const history = await cli("history", "playlist", playlist.id, "name");
    expect(history.stdout).toContain('"Mix"  by this device  [current]');
    const noRecord = await cli("conflicts", "restore", "--id", "7", "--json");
    expect(noRecord.code).toBe(1);
    expect(JSON.parse(noRecord.stderr)).toMatchObject({ error: { code: "not_found" } });
  });
});

describe("the shipped chorus-device binary", () => {
  it("`npm run cli` and the bin run plain JavaScript, not TypeScript through a loader", () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_DIR, "package.json"), "utf8"));
    expect(pkg.scripts.cli).toBe("node bin/chorus-device.mjs");
    expect(pkg.bin).toEqual({ "chorus-device": "./bin/chorus-device.mjs" });
    const bin = readFileSync(join(PACKAGE_DIR, "bin/chorus-device.mjs"), "utf8");
    expect(bin).toContain('new URL("../dist/cli.js", import.meta.url)');
    expect(bin).not.toMatch(/tsx|ts-node/);
  });

  it("is the tsup bundle run by plain Node: no TypeScript loader at run time", () => {
    // Inside the package, so the bundle resolves its externals (better-sqlite3, zod) as installed.
    const outDir = join(PACKAGE_DIR, "node_modules", ".cache", `cli-bundle-${process.pid}`);
    const out = { path: outDir, remove: () => rmSync(outDir, { recursive: true, force: true }) };
    try {
      const built = spawnSync("npx", ["tsup", "--out-dir", out.path, "--no-sourcemap"], {
        cwd: PACKAGE_DIR,
        encoding: "utf8",
      });
      expect(built.status, built.stderr).toBe(0);
      const { CHORUS_DATA_DIR: _d, CHORUS_PROFILE: _p, NODE_OPTIONS: _n, ...env } = process.env;
      const run = (args: string[]) =>
        spawnSync(process.execPath, [`${out.path}/cli.js`, ...args], { env, encoding: "utf8" });
      const help = run(["--help"]);
      expect(help.status).toBe(0);
      expect(help.stdout).toBe(USAGE);
      // The engine's chunk loads on demand, and works.
      const data = makeTempDir();
      try {
        expect(run(["profile", "create", "built", "--data-dir", data.path]).status).toBe(0);
        const status = run(["status", "--json", "--data-dir", data.path]);
        expect(status.status, status.stderr).toBe(0);
        expect(JSON.parse(status.stdout)).toMatchObject({
          profile: "built",
          connection: "disabled",
        });
      } finally {
        data.remove();
      }
    } finally {
      out.remove();
    }
  });
});
