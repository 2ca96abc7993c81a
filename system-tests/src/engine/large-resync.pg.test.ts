import { EngineFleet } from "@chorus/desktop-sync/testing";
import { waitUntil } from "@chorus/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TestBackend } from "../support/backend.js";

let backend: TestBackend;
let fleet: EngineFleet;
beforeAll(async () => {
  // A pull budget this test cannot exhaust: it is about pages, not rate limits.
  backend = await TestBackend.start({ env: { RATE_LIMITS: "pull=100000/1" } });
});
afterAll(async () => {
  await backend?.close();
});
afterEach(async () => {
  await fleet?.close();
});

/** More pages than the old in-memory rebuild allowed (1,000), at one op per page. */
const OPS = 1_200;

describe("a full resync of a large account", () => {
  it("a full resync is not capped at 1,000 pages: it streams every page, reports progress and resumes the live subscription", async () => {
    fleet = new EngineFleet();
    const account = await backend.createAccount();
    const a = fleet.open("a");
    const b = fleet.open("b", {
      timing: { pullPageSize: 1, reconnectBackoff: { baseMs: 100, maxMs: 500 } },
    });
    const aDevice = await account.device("a");
    const bDevice = await account.device("b");
    await a.bind(aDevice.session);
    await b.bind(bDevice.session);
    await a.start();
    await b.start();
    const first = await a.createPlaylist("Before B went away");
    await waitUntil("b has it", () => b.playlist(first.id) !== null);
    await b.close();

    // While B is away the account grows by OPS playlists (written straight into the log).
    await backend.pool.query(
      `INSERT INTO sync_op (user_id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value)
       SELECT $1, $2, gen_random_uuid(), 1000 + n, 'playlist', gen_random_uuid()::text, NULL, 'insert',
              jsonb_build_object('name', 'Bulk ' || n)
         FROM generate_series(1, $3::int) AS n`,
      [account.userId, aDevice.deviceId, OPS],
    );
    const log = await backend.ops(account.userId);
    const b2 = fleet.open("b", {
      timing: { pullPageSize: 1, reconnectBackoff: { baseMs: 100, maxMs: 500 } },
    });
    // B's history is gone: compaction raised the watermark past its cursor.
    await backend.setWatermark(account.userId, b2.diagnostics().cursor + 1);

    let pullingEvents = 0;
    let applying = false;
    let done = -1;
    b2.on((event) => {
      if (event.type !== "resync" || !event.progress) return;
      if (event.progress.phase === "pulling") pullingEvents += 1;
      if (event.progress.phase === "applying") applying = true;
      if (event.progress.phase === "done") done = event.progress.done;
    });
    let statusShowedResync = false;
    await b2.bind(backend.sessionFor(account.userId, bDevice.deviceId));
    await b2.start();
    await waitUntil(
      "rebuilt",
      () => {
        if (b2.diagnostics().resync) statusShowedResync = true;
        return b2.playlists().length === OPS + 1 && b2.diagnostics().connection === "connected";
      },
      { timeoutMs: 240_000 },
    );
    expect(pullingEvents).toBeGreaterThan(1_000);
    expect(applying).toBe(true);
    expect(done).toBeGreaterThanOrEqual(log.length);
    expect(statusShowedResync).toBe(true);
    expect(b2.diagnostics().cursor).toBe(log.at(-1)?.id);

    // The live subscription is back: a new edit on A arrives without another pull.
    const after = await a.createPlaylist("After the resync");
    await waitUntil("b2 receives it live", () => b2.playlist(after.id) !== null);
  }, 300_000);

  it("the audit after a rebuild that held the engine's thread past the server's keep-alive timeout reaches the server (it failed with write EPIPE)", async () => {
    // On a 1,000,000-op account the rebuild's final transaction and the audit's digest hold
    // the engine's thread for seconds (minutes on a busy machine). Meanwhile the server closes
    // the pull's idle keep-alive connection (Node's keepAliveTimeout, 5 s), and the engine,
    // which has not yet read that close, wrote the audit's request onto it: "write EPIPE" or
    // "other side closed", and no audit. Scaled down: a few ops, and a listener of the `done`
    // event holds the thread 6.5 s where the large rebuild's transaction did.
    fleet = new EngineFleet();
    const account = await backend.createAccount();
    const a = fleet.open("a");
    const b = fleet.open("b");
    await a.bind((await account.device("a")).session);
    await b.bind((await account.device("b")).session);
    await a.start();
    await b.start();
    const made = await a.createPlaylist("Before the resync");
    await waitUntil("b has it", () => b.playlist(made.id) !== null);
    b.on((event) => {
      if (event.type !== "resync" || event.progress?.phase !== "done") return;
      const until = Date.now() + 6_500;
      while (Date.now() < until) {
        // The engine's thread is busy, as in a large rebuild's transaction.
      }
    });
    const { audit } = await b.resync();
    expect(audit).toMatchObject({ outcome: "match", reason: null });
  }, 120_000);
});
