import { mintAccessToken } from "@chorus/auth";
import { makeTempDir, runCli } from "@chorus/desktop-sync/testing";
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
  const code = await runCli([...args, "--data-dir", temp.path], {
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
    signal: AbortSignal.timeout(60_000),
  });
  return { code, stdout, stderr };
}

/** What /account's "Revoke" does: devices.revoke with the user's web token. */
async function revoke(userId: string, deviceId: string): Promise<void> {
  const { token } = await mintAccessToken(backend.key, { userId, role: "user", kind: "web" });
  const response = await fetch(`${backend.syncUrl}/trpc/devices.revoke`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ deviceId }),
  });
  expect(response.status).toBe(200);
}

const REVOKED =
  /this device was revoked from your account .*To sync again, bind it anew: chorus-device signin --profile gone/s;

describe("the CLI on a device the account revoked", () => {
  it("every account command exits 1 with one message saying how to bind again; edits stay queued", async () => {
    const account = await backend.createAccount();
    const device = await account.device("gone");
    expect((await cli(["profile", "create", "gone"])).code).toBe(0);
    const token = await backend.mint(account.userId, device.deviceId);
    const bound = await cli([
      "bind-token",
      "--profile",
      "gone",
      "--sync-url",
      backend.syncUrl,
      "--token",
      token,
    ]);
    expect(bound.code).toBe(0);
    expect((await cli(["sync", "--profile", "gone", "--timeout-ms", "60000"])).code).toBe(0);

    await revoke(account.userId, device.deviceId);
    // The server tells it on the next call, whatever the call: here a push of a queued edit.
    const edit = await cli(["playlist", "create", "Kept here", "--profile", "gone"]);
    expect(edit.code).toBe(0);
    expect(edit.stderr).toMatch(REVOKED);

    for (const command of [
      ["push"],
      ["sync"],
      ["run"],
      ["watch"],
      ["status"],
      ["mode", "server"],
    ]) {
      const result = await cli([...command, "--profile", "gone"]);
      expect(result.code, command.join(" ")).toBe(1);
      expect(result.stderr, command.join(" ")).toMatch(REVOKED);
      expect(result.stderr, command.join(" ")).not.toMatch(/offline|cannot be reached|timed out/);
    }
    const json = await cli(["status", "--profile", "gone", "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ connection: "revoked", pendingCount: 1 });
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: "device_revoked" } });
  });

  it("a revoked device that syncs for the first time since learns it from the server, not a timeout", async () => {
    const account = await backend.createAccount();
    const device = await account.device("late");
    expect((await cli(["profile", "create", "late"])).code).toBe(0);
    const token = await backend.mint(account.userId, device.deviceId);
    await cli(["bind-token", "--profile", "late", "--sync-url", backend.syncUrl, "--token", token]);
    await revoke(account.userId, device.deviceId);
    const result = await cli(["sync", "--profile", "late", "--timeout-ms", "60000"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/this device was revoked from your account/);
    expect(result.stdout).not.toMatch(/Not synced within/);
  });
});
