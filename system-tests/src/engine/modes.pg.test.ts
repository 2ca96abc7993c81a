import { EngineFleet } from "@chorus/desktop-sync/testing";
import { waitUntil } from "@chorus/testing";
import { describe, expect, it } from "vitest";
import { engineSuite } from "../support/engine-suite.js";

const suite = engineSuite({ fleet: "test" });

describe("sync modes", () => {
  it("Local never touches the network and still queues; switching to Hybrid drains at once", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    // A tick far in the future: only the switch itself can explain the upload.
    const engine = suite.fleet.open("local", { timing: { tickMs: 3_600_000 } });
    await engine.bind((await account.device()).session);
    await engine.setMode("local");
    await engine.start();
    await engine.createPlaylist("Queued while local");
    // No sleep-and-look: asking for a push now is the proof. In Local there is no drain to
    // ask (null); had the engine one, this call would have uploaded the edit before returning.
    expect(await engine.pushNow()).toBeNull();
    expect(engine.diagnostics()).toMatchObject({
      mode: "local",
      connection: "disabled",
      pendingCount: 1,
    });
    expect(await suite.backend.ops(account.userId)).toHaveLength(0);

    await engine.setMode("hybrid");
    const ms = await waitUntil(
      "uploaded after the switch",
      () => engine.diagnostics().pendingCount === 0,
    );
    console.log(`[latency] Local -> Hybrid drained in ${ms} ms`);
    expect(await suite.backend.ops(account.userId)).toHaveLength(1);
  });

  it("Server-connected keeps no durable library: it loads from the server, writes go straight to it, and fail clearly offline", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const hybrid = suite.fleet.open("hybrid");
    await hybrid.bind((await account.device("hybrid")).session);
    await hybrid.start();
    const seeded = await hybrid.createPlaylist("From the other desktop");
    await waitUntil("seeded", () => hybrid.diagnostics().pendingCount === 0);

    const thin = suite.fleet.open("thin");
    await thin.bind((await account.device("thin")).session);
    await thin.setMode("server");
    await thin.start();
    // Right away: the write waits for the first load instead of failing as "offline".
    const made = await thin.createPlaylist("Straight to the server");
    await waitUntil("loaded into memory", () => thin.playlist(seeded.id) !== null);
    expect(thin.diagnostics().pendingCount).toBe(0);
    expect((await suite.backend.ops(account.userId)).length).toBe(2);
    await waitUntil("on the other desktop", () => hybrid.playlist(made.id) !== null);
    await hybrid.renamePlaylist(seeded.id, "Renamed elsewhere");
    await waitUntil(
      "live update in memory",
      () => thin.playlist(seeded.id)?.name === "Renamed elsewhere",
    );
    // Nothing of it on disk: the profile's own tables stay empty.
    expect(thin.profile.db.prepare("SELECT COUNT(*) FROM playlists").pluck().get()).toBe(0);

    await suite.backend.server.kill();
    await expect(thin.createPlaylist("Offline attempt")).rejects.toMatchObject({
      code: "offline",
      message: expect.stringContaining("switch to Hybrid"),
    });
    expect(thin.playlists().some((p) => p.name === "Offline attempt")).toBe(false);
  });

  it("refuses Server-connected while local changes wait, and without an account", async () => {
    suite.fleet = new EngineFleet();
    const lonely = suite.fleet.open("lonely");
    await expect(lonely.setMode("server")).rejects.toMatchObject({ code: "not_signed_in" });

    const account = await suite.backend.createAccount();
    const engine = suite.fleet.open("busy");
    await engine.bind((await account.device()).session);
    await engine.createPlaylist("Not uploaded");
    await suite.backend.server.kill();
    await engine.start();
    await expect(engine.setMode("server")).rejects.toMatchObject({ code: "pending_changes" });
    expect(engine.mode()).toBe("hybrid");
  });
});
