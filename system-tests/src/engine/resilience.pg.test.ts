import { USER_LOCK_STATEMENT } from "@chorus/db";
import type { DeviceEngine } from "@chorus/desktop-sync";
import { allPending, EngineFleet } from "@chorus/desktop-sync/testing";
import { waitUntil } from "@chorus/testing";
import { RefusingProxy } from "@chorus/testing/refusing-proxy";
import { describe, expect, it } from "vitest";
import { engineSuite } from "../support/engine-suite.js";
import { CuttingProxy } from "../support/proxy.js";

const suite = engineSuite({ fleet: "test" });

async function pair() {
  const { account, a, b } = await suite.boundPair();
  await a.start();
  await b.start();
  await waitUntil("both connected", () =>
    [a, b].every((engine) => engine.diagnostics().connection === "connected"),
  );
  return { account, a, b };
}

const drained = (...engines: DeviceEngine[]) =>
  engines.every((engine) => engine.diagnostics().pendingCount === 0);

describe("offline, then online", () => {
  it("edits made while the server is down arrive after it returns: none lost, none doubled", async () => {
    const { account, a, b } = await pair();
    await suite.backend.server.kill();
    await waitUntil("a notices", () => a.diagnostics().connection === "offline");

    const mix = await a.createPlaylist("Made offline on A");
    const track = await a.addTrack({ title: "Offline track" });
    const first = await a.addEntry(mix.id, track.id);
    const second = await a.addEntry(mix.id, track.id);
    await a.moveEntry(second.id, { before: first.id });
    for (let i = 0; i < 10; i++) await b.createPlaylist(`B offline ${i}`);
    const made = a.diagnostics().pendingCount + b.diagnostics().pendingCount;
    expect(made).toBe(15);
    await waitUntil("the failed push recorded", () => a.diagnostics().lastError !== null);

    await suite.backend.server.start();
    await waitUntil(
      "both converge",
      () => drained(a, b) && a.playlists().length === 11 && b.playlists().length === 11,
    );
    await waitUntil(
      "same library",
      () => JSON.stringify(a.snapshot()) === JSON.stringify(b.snapshot()),
    );
    expect(b.playlist(mix.id)?.entries.map((e) => e.id)).toEqual([second.id, first.id]);

    const ops = await suite.backend.ops(account.userId);
    expect(ops).toHaveLength(made);
    expect(new Set(ops.map((op) => op.operationId)).size).toBe(made);
  });
});

/** Sessions of this test's database waiting on an advisory lock (other suites share the cluster). */
const WAITING_ON_ADVISORY_LOCKS = `SELECT count(*)::int AS n FROM pg_locks
  WHERE locktype = 'advisory' AND NOT granted
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

describe("a proxy that refuses WebSockets", () => {
  it("a device behind it still uploads its changes over HTTP, and they reach the other device", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const proxy = await RefusingProxy.start(suite.backend.syncUrl, null, {
      refuseWebSockets: true,
    });
    try {
      const a = suite.fleet.open("a");
      const b = suite.fleet.open("b");
      await a.bind((await account.device("a", proxy.url)).session);
      await b.bind((await account.device("b")).session);
      await a.start();
      await b.start();
      const made: Array<{ id: string }> = [];
      for (let i = 0; i < 3; i++) made.push(await a.createPlaylist(`Behind a proxy ${i}`));
      await waitUntil("a's queue uploaded", () => drained(a));
      await waitUntil("b has a's playlists", () =>
        made.every((playlist) => b.playlist(playlist.id) !== null),
      );
      expect(await suite.backend.ops(account.userId)).toHaveLength(3);
    } finally {
      await proxy.close();
    }
  });
});

describe("the server killed mid-push", () => {
  it("before commit: the client retries with the same operation ids, one row per op", async () => {
    const { account, a } = await pair();
    // Hold the user's advisory lock, so the push blocks inside its transaction.
    const blocker = await suite.backend.pool.connect();
    await blocker.query("BEGIN");
    await blocker.query(USER_LOCK_STATEMENT, [account.userId]);
    for (let i = 0; i < 5; i++) await a.createPlaylist(`Playlist ${i}`);
    const queued = allPending(a.profile.db).map((op) => op.operationId);
    await waitUntil("the push waits inside the server's transaction", async () => {
      const { rows } = await suite.backend.pool.query(WAITING_ON_ADVISORY_LOCKS);
      return rows[0].n > 0;
    });
    await suite.backend.server.kill();
    // The push is one statement waiting on the lock; Postgres notices its client is gone
    // (client_connection_check_interval) and rolls it back before the lock comes free.
    await waitUntil("the dead server's statement is rolled back", async () => {
      const { rows } = await suite.backend.pool.query(WAITING_ON_ADVISORY_LOCKS);
      return rows[0].n === 0;
    });
    await blocker.query("ROLLBACK");
    blocker.release();
    expect(await suite.backend.ops(account.userId)).toHaveLength(0);

    await suite.backend.server.start();
    await waitUntil("queue drained", () => drained(a));
    const stored = await suite.backend.ops(account.userId);
    expect(stored.map((op) => op.operationId).sort()).toEqual([...queued].sort());
  });

  it("after commit, answer lost: the retry is recognised, one row per op", async () => {
    suite.fleet = new EngineFleet();
    const proxy = await CuttingProxy.start(() => suite.backend.server.port);
    try {
      const account = await suite.backend.createAccount();
      const a = suite.fleet.open("a");
      await a.bind((await account.device("a", proxy.url)).session);
      await a.start();
      await waitUntil("connected", () => a.diagnostics().connection === "connected");
      proxy.cutNextPushAnswer();
      for (let i = 0; i < 3; i++) await a.createPlaylist(`Playlist ${i}`);
      const queued = allPending(a.profile.db).map((op) => op.operationId);
      await waitUntil("queue drained", () => drained(a));
      // The push travelled on the device's socket, which was cut with its answer.
      expect(proxy.cutOver).toEqual(["ws"]);
      expect(a.diagnostics().lastError).not.toBeNull();
      const stored = await suite.backend.ops(account.userId);
      expect(stored.map((op) => op.operationId).sort()).toEqual([...queued].sort());
    } finally {
      await proxy.close();
    }
  });
});

describe("a device whose Lamport clock was reset", () => {
  it("recovers through the 409 round trip, and its newer edits win everywhere", async () => {
    const { account, a, b } = await pair();
    const { id } = await a.createPlaylist("v1");
    for (let i = 2; i <= 5; i++) await a.renamePlaylist(id, `v${i}`);
    await waitUntil("b has v5", () => drained(a) && b.playlist(id)?.name === "v5");
    const storedMax = a.diagnostics().lamport;

    await a.stop();
    a.profile.db.prepare("UPDATE sync_meta SET value = '0' WHERE key = 'lamport'").run();
    await a.renamePlaylist(id, "after the reset");
    const stale = allPending(a.profile.db);
    expect(stale[0]?.lamportTs).toBeLessThanOrEqual(storedMax);
    await a.start();

    await waitUntil("re-stamped and accepted", () => drained(a));
    expect(a.diagnostics().lamport).toBeGreaterThan(storedMax);
    await waitUntil("b sees the edit", () => b.playlist(id)?.name === "after the reset");
    expect(a.playlist(id)?.name).toBe("after the reset");
    const ops = await suite.backend.ops(account.userId);
    expect(ops).toHaveLength(6);
    expect(ops.at(-1)?.lamportTs).toBeGreaterThan(storedMax);
  });
});

describe("a resurrected device", () => {
  it("resyncs from a full pull with progress, converges and keeps its pending local ops", async () => {
    const { account, a, b } = await pair();
    const shared = await a.createPlaylist("Shared");
    await waitUntil("b has it", () => b.playlist(shared.id) !== null);
    await b.close();

    for (let i = 0; i < 30; i++) await a.createPlaylist(`While B was away ${i}`);
    await waitUntil("a drained", () => drained(a));
    const b2 = suite.fleet.open("b", {
      timing: {
        pullPageSize: 7,
        reconnectBackoff: { baseMs: 100, maxMs: 500 },
        ackDebounceMs: 100,
      },
    });
    const keptLocal = await b2.createPlaylist("Made on B while away");
    await b2.renamePlaylist(shared.id, "Renamed on B while away");
    const log = await suite.backend.ops(account.userId);
    const newest = log.at(-1)?.id ?? 0;
    const cursor = b2.diagnostics().cursor;
    expect(cursor).toBeLessThan(newest);
    // Just above B's cursor: the first page of a full pull (7 ops) already passes it. A
    // watermark beyond the first page cannot be paged through today (see the README).
    await suite.backend.setWatermark(account.userId, cursor + 1);

    const progress: string[] = [];
    b2.on((event) => {
      if (event.type === "resync" && event.progress)
        progress.push(`${event.progress.phase}:${event.progress.done}`);
    });
    await b2.bind(await suite.backend.sessionFor(account.userId, b2.deviceId()));
    await b2.start();
    await waitUntil(
      "converged",
      () =>
        drained(a, b2) &&
        a.playlists().length === 32 &&
        JSON.stringify(a.snapshot()) === JSON.stringify(b2.snapshot()),
    );
    expect(a.playlist(keptLocal.id)?.name).toBe("Made on B while away");
    expect(a.playlist(shared.id)?.name).toBe("Renamed on B while away");
    expect(progress.filter((p) => p.startsWith("pulling")).length).toBeGreaterThan(3);
    // Every op of the log was pulled (B's own pushes may have landed before the pull).
    const done = progress.find((p) => p.startsWith("done:"));
    expect(Number(done?.split(":")[1])).toBeGreaterThanOrEqual(log.length);
    expect(progress.some((p) => p.startsWith("applying"))).toBe(true);
  });
});
