import { mintAccessToken } from "@chorus/auth";
import type { DeviceEngine } from "@chorus/desktop-sync";
import { allPending, EngineFleet } from "@chorus/desktop-sync/testing";
import { waitUntil } from "@chorus/testing";
import { describe, expect, it } from "vitest";
import { engineSuite } from "../support/engine-suite.js";
import { CuttingProxy } from "../support/proxy.js";

const suite = engineSuite({ fleet: "test" });

/** A small library made offline: two playlists, three tracks, ordered entries. */
async function buildLibrary(engine: DeviceEngine, label: string): Promise<void> {
  const tracks = [];
  for (let i = 0; i < 3; i++) tracks.push(await engine.addTrack({ title: `${label} track ${i}` }));
  const first = await engine.createPlaylist(`${label} favourites`);
  const second = await engine.createPlaylist(`${label} to delete`);
  for (const track of tracks) await engine.addEntry(first.id, track.id);
  const entries = engine.playlist(first.id)?.entries ?? [];
  await engine.moveEntry(entries[2]?.id ?? "", { before: entries[0]?.id ?? "" });
  await engine.deletePlaylist(second.id);
  await engine.renamePlaylist(first.id, `${label} favourites (renamed)`);
}

const same = (a: DeviceEngine, b: DeviceEngine) =>
  JSON.stringify(a.snapshot()) === JSON.stringify(b.snapshot());
const drained = (...engines: DeviceEngine[]) =>
  engines.every((e) => e.diagnostics().pendingCount === 0);

describe("first bind", () => {
  it("uploads a profile's existing library to an empty account; a second device gets all of it", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const old = suite.fleet.open("old");
    await old.setMode("local");
    await old.start();
    await buildLibrary(old, "Old");
    const before = old.snapshot();
    expect(old.diagnostics().connection).toBe("disabled");

    await old.setMode("hybrid");
    await old.bind((await account.device("old")).session);
    const fresh = suite.fleet.open("fresh");
    await fresh.bind((await account.device("fresh")).session);
    await fresh.start();
    await waitUntil("the library on the new device", () => drained(old) && same(old, fresh));
    expect(fresh.snapshot()).toEqual(before);
    expect(fresh.playlists().map((p) => p.name)).toEqual(["Old favourites (renamed)"]);
  });

  it("two devices with their own libraries bound to one account end with the union", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const x = suite.fleet.open("x");
    const y = suite.fleet.open("y");
    await buildLibrary(x, "X");
    await buildLibrary(y, "Y");
    await x.bind((await account.device("x")).session);
    await x.start();
    await waitUntil("x uploaded", () => drained(x));
    await y.bind((await account.device("y")).session);
    await y.start();
    await waitUntil(
      "union on both",
      () => drained(x, y) && x.playlists().length === 2 && same(x, y),
    );
    expect(x.playlists().map((p) => p.name)).toEqual([
      "X favourites (renamed)",
      "Y favourites (renamed)",
    ]);
    expect(x.tracks()).toHaveLength(6);
  });

  it("binding to another account re-bases the visible library on a snapshot", async () => {
    suite.fleet = new EngineFleet();
    const first = await suite.backend.createAccount();
    const second = await suite.backend.createAccount();
    const device = suite.fleet.open("moving");
    await buildLibrary(device, "M");
    await device.bind((await first.device("moving")).session);
    await device.start();
    await waitUntil("uploaded to the first account", () => drained(device));

    await device.bind((await second.device("moving")).session);
    const other = suite.fleet.open("other");
    await other.bind((await second.device("other")).session);
    await other.start();
    await waitUntil(
      "the library in the second account",
      () => drained(device) && same(device, other),
    );
    // One insert per visible entity: 1 playlist + 3 tracks + 3 entries.
    expect(await suite.backend.ops(second.userId)).toHaveLength(7);
  });

  it("signing in again to the same account as a new device keeps the history and uploads what was queued meanwhile", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const device = suite.fleet.open("laptop");
    const other = suite.fleet.open("other");
    await device.bind((await account.device("laptop")).session);
    await other.bind((await account.device("other")).session);
    await device.start();
    await other.start();
    await buildLibrary(device, "L");
    await waitUntil("synced", () => drained(device) && same(device, other));
    const before = (await suite.backend.ops(account.userId)).length;

    await device.signOut();
    const [playlist] = device.playlists();
    await device.deletePlaylist(playlist?.id ?? "");
    await device.createPlaylist("Made while signed out");
    await device.bind((await account.device("laptop again")).session);
    await waitUntil(
      "the queued edits on the other device",
      () => drained(device) && same(device, other) && other.playlists().length === 1,
    );
    expect(other.playlists().map((p) => p.name)).toEqual(["Made while signed out"]);
    // Only the queued ops were uploaded (no re-upload of the whole library): 3 entry deletes,
    // the playlist delete and the new playlist.
    expect((await suite.backend.ops(account.userId)).length - before).toBe(5);
  });

  it("an op whose push was stored but not answered, re-sent after a revocation under the new device id, is stored once", async () => {
    suite.fleet = new EngineFleet();
    const proxy = await CuttingProxy.start(() => suite.backend.server.port);
    try {
      const account = await suite.backend.createAccount();
      const device = suite.fleet.open("laptop");
      const other = suite.fleet.open("other");
      const first = await account.device("laptop", proxy.url);
      await device.bind(first.session);
      await other.bind((await account.device("other")).session);
      await device.start();
      await other.start();
      await waitUntil("connected", () => device.diagnostics().connection === "connected");

      // The push is stored, its answer cut, and the device offline at that moment.
      proxy.cutNextPushAnswer({ offline: true });
      await device.createPlaylist("Pushed, never answered");
      await waitUntil("the answer cut", () => proxy.cuts === 1);
      const queued = allPending(device.profile.db).map((op) => op.operationId);
      const stored = (await suite.backend.ops(account.userId)).map((op) => op.operationId);
      expect(queued.length).toBeGreaterThan(0);
      expect(queued.every((id) => stored.includes(id))).toBe(true);

      // Revoked from the account page; the profile is signed in again as a new device.
      const { token } = await mintAccessToken(suite.backend.key, {
        userId: account.userId,
        role: "user",
        kind: "web",
      });
      const revoked = await fetch(`${suite.backend.syncUrl}/trpc/devices.revoke`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ deviceId: first.deviceId }),
      });
      expect(revoked.status).toBe(200);
      await device.signOut();
      await device.createPlaylist("Made while signed out");
      await device.bind((await account.device("laptop again")).session);
      await waitUntil("drained and the same on both", () => drained(device) && same(device, other));

      const ops = await suite.backend.ops(account.userId);
      const ids = ops.map((op) => op.operationId);
      expect(new Set(ids).size).toBe(ids.length);
      // The op in flight stays stored once, under the device id it was first stored under.
      for (const id of queued) {
        expect(ops.filter((op) => op.operationId === id).map((op) => op.deviceId)).toEqual([
          first.deviceId,
        ]);
      }
      expect(
        other
          .playlists()
          .map((p) => p.name)
          .sort(),
      ).toEqual(["Made while signed out", "Pushed, never answered"]);
    } finally {
      await proxy.close();
    }
  });
});
