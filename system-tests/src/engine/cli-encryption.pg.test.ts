import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { MASTER_KEY_FILE } from "@chorus/desktop-sync";
import { describe, expect, it } from "vitest";
import { engineSuite } from "../support/engine-suite.js";
import { jsonCli } from "../support/json-cli.js";

/*
 * The encryption commands as the headless CLI offers them (derived from the command table):
 * the master key kept in a 0600 file beside the credential, a wrong password a clear refusal
 * with exit code 1, and edits uploaded sealed by a one-shot process.
 */

const suite = engineSuite({ temp: true });

const { cli, ok } = jsonCli(() => suite.temp.path);

describe("encryption from the CLI", () => {
  it("sets the password on one profile, refuses a wrong one on another, unlocks with the right one; edits leave sealed", async () => {
    const account = await suite.backend.createAccount();
    for (const name of ["one", "two"]) {
      const { deviceId } = await account.device(name);
      await ok(["profile", "create", name]);
      await ok([
        "bind-token",
        "--profile",
        name,
        "--sync-url",
        suite.backend.syncUrl,
        "--token",
        await suite.backend.mint(account.userId, deviceId),
      ]);
    }
    expect(await ok(["encryption", "status", "--profile", "one"])).toMatchObject({
      account: "unknown",
    });
    expect(
      await ok(["encryption", "set-password", "--profile", "one", "--password", "s3cret pass"]),
    ).toMatchObject({ account: "on", unlocked: true, epoch: 1 });
    const keyFile = join(suite.temp.path, "profiles", "one", MASTER_KEY_FILE);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);

    const again = await cli([
      "encryption",
      "set-password",
      "--profile",
      "two",
      "--password",
      "another",
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already has an encryption password/);

    const wrong = await cli(["encryption", "unlock", "--profile", "two", "--password", "nope"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/not the account's encryption password/);
    expect(wrong.stderr).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack trace
    expect(await ok(["encryption", "status", "--profile", "two"])).toMatchObject({
      account: "on",
      unlocked: false,
      needsPassword: true,
    });

    expect(
      await ok(["encryption", "unlock", "--profile", "two", "--password", "s3cret pass"]),
    ).toMatchObject({ unlocked: true });
    expect(
      await ok(["playlist", "create", "Sealed from the CLI", "--profile", "two"]),
    ).toMatchObject({ uploaded: true });
    const { rows } = await suite.backend.pool.query<{ value: string }>(
      "SELECT value::text AS value FROM sync_op WHERE user_id = $1",
      [account.userId],
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const { value } of rows) expect(value).not.toContain("Sealed from the CLI");
    expect(rows.some(({ value }) => value.includes('"$sealed"'))).toBe(true);

    // The master key leaves with the account: signing out deletes it.
    await ok(["signout", "--profile", "one"]);
    expect(existsSync(keyFile)).toBe(false);
  });
});
