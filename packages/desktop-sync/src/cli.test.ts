import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { profileStatusSchema } from "./contract.js";
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
    expect(profileStatusSchema.parse(JSON.parse(status.stdout))).toEqual({
      profile: "work",
      deviceId,
      lamport: 0,
      pendingCount: 0,
      cursor: 0,
      serverUrl: null,
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

  it("exits 1 when profile create has no name", () => {
    const result = cli(["profile", "create", "--data-dir", temp.path, "--json"]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stderr)).toMatchObject({ error: { code: "usage" } });
  });
});
