import { mintAccessToken } from "@chorus/auth";
import { runCliCaptured } from "@chorus/desktop-sync/testing";
import { describe, expect, it } from "vitest";
import { engineSuite } from "../support/engine-suite.js";

const suite = engineSuite({ temp: true });

function cli(args: string[]) {
  return runCliCaptured([...args, "--data-dir", suite.temp.path], suite.temp.path, {
    signal: AbortSignal.timeout(60_000),
  });
}

/** What /account's "Revoke" does: devices.revoke with the user's web token. */
async function revoke(userId: string, deviceId: string): Promise<void> {
  const { token } = await mintAccessToken(suite.backend.key, { userId, role: "user", kind: "web" });
  const response = await fetch(`${suite.backend.syncUrl}/trpc/devices.revoke`, {
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
    const account = await suite.backend.createAccount();
    const device = await account.device("gone");
    expect((await cli(["profile", "create", "gone"])).code).toBe(0);
    const token = await suite.backend.mint(account.userId, device.deviceId);
    const bound = await cli([
      "bind-token",
      "--profile",
      "gone",
      "--sync-url",
      suite.backend.syncUrl,
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
    const account = await suite.backend.createAccount();
    const device = await account.device("late");
    expect((await cli(["profile", "create", "late"])).code).toBe(0);
    const token = await suite.backend.mint(account.userId, device.deviceId);
    await cli([
      "bind-token",
      "--profile",
      "late",
      "--sync-url",
      suite.backend.syncUrl,
      "--token",
      token,
    ]);
    await revoke(account.userId, device.deviceId);
    const result = await cli(["sync", "--profile", "late", "--timeout-ms", "60000"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/this device was revoked from your account/);
    expect(result.stdout).not.toMatch(/Not synced within/);
  });
});
