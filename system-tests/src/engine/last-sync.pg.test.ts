import { waitUntil } from "@chorus/testing";
import { describe, expect, it } from "vitest";
import { engineSuite } from "../support/engine-suite.js";

const suite = engineSuite({ fleet: "file" });

describe("the last sync time in diagnostics", () => {
  it("is null until the server is reached, moves with each upload, and goes at sign-out", async () => {
    const account = await suite.backend.createAccount();
    const engine = suite.fleet.open("laptop");
    expect(engine.diagnostics().lastSyncAt).toBeNull();
    await engine.createPlaylist("Made before signing in");
    expect(engine.diagnostics().lastSyncAt).toBeNull();

    await engine.bind((await account.device("laptop")).session);
    await engine.start();
    await waitUntil("connected and uploaded", () => {
      const d = engine.diagnostics();
      return d.connection === "connected" && d.pendingCount === 0 && d.lastSyncAt !== null;
    });
    const first = engine.diagnostics().lastSyncAt as string;
    expect(Number.isNaN(Date.parse(first))).toBe(false);

    await engine.createPlaylist("Made while connected");
    await waitUntil(
      "the upload moves the time",
      () =>
        engine.diagnostics().pendingCount === 0 &&
        Date.parse(engine.diagnostics().lastSyncAt as string) >= Date.parse(first) &&
        engine.diagnostics().lastSyncAt !== first,
    );

    await engine.signOut();
    expect(engine.diagnostics().lastSyncAt).toBeNull();
  });
});
