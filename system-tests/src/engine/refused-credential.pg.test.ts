import { staticSession } from "@chorus/desktop-sync";
import { waitUntil } from "@chorus/testing";
import { describe, expect, it } from "vitest";
import { engineSuite } from "../support/engine-suite.js";

const suite = engineSuite({ fleet: "file" });

describe("a credential the server refuses", () => {
  it("is 'revoked' (signed out, not offline) until the next sign-in, and the edits wait for it", async () => {
    const account = await suite.backend.createAccount();
    const engine = suite.fleet.open("laptop");
    const { deviceId } = await account.device("laptop");
    // A bound token the server does not accept (as after a revocation): it cannot be refreshed.
    await engine.bind(
      staticSession({
        syncUrl: suite.backend.syncUrl,
        userId: account.userId,
        deviceId,
        token: "not-a-valid-token",
      }),
    );
    await engine.start();
    await engine.createPlaylist("Made before the refusal was known");
    await waitUntil("revoked", () => engine.diagnostics().connection === "revoked");
    const refused = engine.diagnostics();
    expect(refused.account?.signedIn).toBe(false);
    expect(refused.lastError?.code).toBe("unauthorized");
    expect(refused.pendingCount).toBe(1);

    // Signing in again (a valid credential) clears it and uploads what waited.
    await engine.bind((await account.device("laptop again")).session);
    await waitUntil("synced again", () => {
      const d = engine.diagnostics();
      return d.connection === "connected" && d.pendingCount === 0;
    });
    expect((await suite.backend.ops(account.userId)).length).toBe(1);
  });
});
