import { randomUUID } from "node:crypto";
import { mintAccessToken } from "@chorus/auth";
import { USER_LOCK_STATEMENT } from "@chorus/db";
import { type DeviceEngine, formatDiagnosis, verdictText } from "@chorus/desktop-sync";
import {
  createSyncClient,
  EngineFleet,
  enqueue,
  FAST_TIMING,
  makeTempDir,
  runCli,
} from "@chorus/desktop-sync/testing";
import { waitUntil } from "@chorus/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TestBackend } from "../support/backend.js";

/*
 * "Why is this device behind?" end to end: each verdict is produced by putting a real engine,
 * against the real sync server, into that state. Time that cannot pass in a test (days offline,
 * an ACK 40 minutes old) is moved back in the database, as if it had passed.
 */

const STALE_DAYS = 4;
const DAY_MS = 86_400_000;

let backend: TestBackend;
let fleet: EngineFleet;
beforeAll(async () => {
  backend = await TestBackend.start({
    env: { COMPACTION_STALE_DAYS: String(STALE_DAYS), COMPACTION_TIME: "03:30" },
  });
});
afterAll(async () => {
  await backend?.close();
});
afterEach(async () => {
  await fleet?.close();
});

// The shape admin.explainDevice answers (its type lives in @chorus/api, the server's package).
type Diagnosis = Awaited<ReturnType<DeviceEngine["explain"]>>;
type Verdict = Diagnosis["verdicts"][number];

/** admin.explainDevice over HTTP, as the console calls it, with an administrator's web token. */
async function explain(deviceId: string): Promise<Diagnosis> {
  const { token } = await mintAccessToken(backend.key, {
    userId: randomUUID(),
    role: "admin",
    kind: "web",
  });
  const input = encodeURIComponent(JSON.stringify({ deviceId }));
  const response = await fetch(`${backend.syncUrl}/trpc/admin.explainDevice?input=${input}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await response.json()) as { result?: { data: Diagnosis }; error?: unknown };
  if (!body.result) throw new Error(`explainDevice failed: ${JSON.stringify(body.error)}`);
  return body.result.data;
}

/** Polls `read` until it yields a value (within @chorus/testing's bound). */
async function until<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
  let value: T | undefined;
  await waitUntil(what, async () => {
    value = await read();
    return value !== undefined;
  });
  return value as T;
}

const codes = (d: Diagnosis) => d.verdicts.map((v) => v.code);
function verdict<C extends Verdict["code"]>(d: Diagnosis, code: C): Extract<Verdict, { code: C }> {
  const found = d.verdicts.find((v) => v.code === code);
  if (!found) throw new Error(`no ${code} verdict in ${JSON.stringify(d.verdicts)}`);
  return found as Extract<Verdict, { code: C }>;
}

async function sql(text: string, values: unknown[]): Promise<void> {
  await backend.pool.query(text, values);
}

/** Moves a device's "last seen" moments (column, ACK time, socket close) back to `at`. */
async function backdateSeen(deviceId: string, at: Date): Promise<void> {
  await sql("UPDATE devices SET last_seen_at = $2 WHERE id = $1", [deviceId, at]);
  await sql("UPDATE device_sync_cursor SET last_seen_at = $2 WHERE device_id = $1", [deviceId, at]);
  await sql("UPDATE device_socket SET closed_at = $2, connected_at = $2 WHERE device_id = $1", [
    deviceId,
    at,
  ]);
}

async function twoDevices(options: { a?: Parameters<EngineFleet["open"]>[1] } = {}) {
  fleet = new EngineFleet();
  const account = await backend.createAccount();
  const a = fleet.open("a", options.a ?? {});
  const b = fleet.open("b");
  const devA = await account.device("laptop");
  const devB = await account.device("studio");
  await a.bind(devA.session);
  await b.bind(devB.session);
  return { account, a, b, aId: devA.deviceId, bId: devB.deviceId };
}

const synced = (engine: DeviceEngine) => {
  const d = engine.diagnostics();
  return d.pendingCount === 0 && d.connection === "connected";
};

describe("device telemetry", () => {
  it("arrives with pushes and over the socket: queue, versions, clock skew, socket replica", async () => {
    const { a, aId } = await twoDevices({ a: { appVersion: "9.8.7" } });
    await a.start();
    await a.createPlaylist("Reported");
    await waitUntil("a drained", () => synced(a));
    // The report that rode on the push said "1 waiting"; the one sent after it says 0.
    const d = await until("a's telemetry after the drain", async () => {
      const found = await explain(aId);
      return found.telemetry?.queueDepth === 0 && found.socket.online ? found : undefined;
    });
    expect(d.telemetry).toMatchObject({ queueDepth: 0, quarantinedCount: 0, appVersion: "9.8.7" });
    expect(d.telemetry?.protocolVersion).toBe(1);
    expect(Math.abs(d.telemetry?.clockSkewMs ?? Infinity)).toBeLessThan(60_000);
    expect(d.socket.replica).toMatch(/.+:\d+$/);
    expect(d.socket.connectedAt).not.toBeNull();
    expect(d.appVersion).toBe("9.8.7");
    await waitUntil("in sync", async () => codes(await explain(aId)).join() === "in_sync");
  });

  it("is optional: an old desktop that sends none pushes as before and gets no telemetry row", async () => {
    const account = await backend.createAccount();
    const { deviceId, session } = await account.device("old desktop");
    const client = createSyncClient(session);
    try {
      const result = await client.trpc.sync.push.mutate({
        ops: [
          {
            operationId: randomUUID(),
            lamportTs: 1,
            entity: "playlist",
            entityId: randomUUID(),
            field: null,
            op: "insert",
            value: { name: "From an old build" },
          },
        ],
      });
      expect(result.results).toHaveLength(1);
    } finally {
      await client.close();
    }
    const d = await explain(deviceId);
    expect(d.telemetry).toBeNull();
    expect(codes(d)).not.toContain("queue_stuck");
    expect(codes(d)).not.toContain("clock_skewed");
  });
});

describe("why is this device behind? one verdict per state", () => {
  it("offline for days: will need a full resync after the next compaction", async () => {
    const { a, b, aId } = await twoDevices();
    await a.start();
    await b.start();
    await a.createPlaylist("Shared");
    await waitUntil("both synced", () => synced(a) && synced(b) && b.playlists().length === 1);
    // a's ACK of its own op must reach the server before a goes away: "synced" says a's queue
    // is empty, not that its op came back and was ACKed. A device that never ACKed counts as
    // seen when it was bound (today), so it could never turn stale, and no forecast would come.
    await waitUntil("a's ACK of the playlist", async () => {
      const cursor = a.diagnostics().cursor;
      return cursor > 0 && (await explain(aId)).cursor.effective === cursor;
    });
    await a.stop();
    await waitUntil("a's socket closed", async () => !(await explain(aId)).socket.online);
    // b keeps writing (and ACKing) while a is away.
    for (let i = 0; i < 3; i++) await b.createPlaylist(`While away ${i}`);
    await waitUntil("b drained", () => synced(b));
    const before = await explain(aId);
    expect(before.nextCompactionAt).not.toBeNull();
    // a was last seen so long ago that it turns stale a minute before the next nightly run.
    const next = Date.parse(before.nextCompactionAt as string);
    const lastSeen = new Date(next - STALE_DAYS * DAY_MS - 60_000);
    // a's last ACK may still sit in the replica's buffer (its time counts as seen, and its flush
    // would write a recent last_seen_at over the backdated one): wait until it is written.
    await waitUntil(
      "a's last ACK written",
      async () => (await explain(aId)).cursor.buffered === null,
    );
    const d = await until("the forecast of a resync", async () => {
      // Set again on every poll: a last-seen write already in flight may land after the first.
      await backdateSeen(aId, lastSeen);
      const found = await explain(aId);
      return found.verdicts[0]?.code === "offline" &&
        (found.verdicts[0] as Extract<Verdict, { code: "offline" }>).resync === "next_compaction"
        ? found
        : undefined;
    });
    const offline = verdict(d, "offline");
    expect(offline.offlineMs).toBeGreaterThan(2 * DAY_MS);
    expect(offline.opsBehind).toBe(3);
    expect(offline.staleInMs).toBeGreaterThan(0);
    expect(offline.staleInMs).toBeLessThan(next - Date.now());
    expect(verdictText(offline)).toMatch(
      /^offline for \d days; will need a full resync after the next compaction/,
    );
    // Nothing past the stale cut-off yet: a run now would wait for a.
    await backdateSeen(aId, new Date(Date.now() - DAY_MS));
    const recent = verdict(await explain(aId), "offline");
    expect(recent.resync).toBeNull();
    expect(verdictText(recent)).toMatch(/^offline for 1 day; turns stale in 3 days/);
  });

  it("online but not acknowledging: last ACK 40 min ago, 12 ops behind", async () => {
    // a applies what it receives but never ACKs (its ACK debounce outlasts the test).
    const { a, b, aId, bId, account } = await twoDevices({
      a: { timing: { ...FAST_TIMING, ackDebounceMs: 3_600_000 } },
    });
    await b.start();
    await b.createPlaylist("First");
    await waitUntil("b drained", () => synced(b));
    // a's cursor row, as if it had ACKed op 1 forty minutes ago.
    const ops = await backend.ops(account.userId);
    await a.start();
    await waitUntil("a received the first op", () => a.playlists().length === 1);
    const fortyMinutesAgo = new Date(Date.now() - 40 * 60_000);
    await sql(
      "INSERT INTO device_sync_cursor (user_id, device_id, last_seen_id, last_seen_at) SELECT user_id, id, $2, $3 FROM devices WHERE id = $1",
      [aId, ops[0]?.id, fortyMinutesAgo],
    );
    for (let i = 0; i < 12; i++) await b.createPlaylist(`Unacknowledged ${i}`);
    await waitUntil("a applied all 13", () => a.playlists().length === 13);
    // The 12 ops a holds but never ACKed were written forty minutes ago.
    await sql("UPDATE sync_op SET created_at = $2 WHERE device_id = $1", [bId, fortyMinutesAgo]);
    const d = await explain(aId);
    expect(d.socket.online).toBe(true);
    const late = verdict(d, "not_acknowledging");
    expect(late.opsBehind).toBe(12);
    expect(late.sinceAckMs).toBeGreaterThanOrEqual(40 * 60_000);
    expect(codes(d)[0]).toBe("not_acknowledging");
    expect(verdictText(late)).toBe(
      "online but not acknowledging: last ACK 40 min ago, 12 ops behind",
    );
  });

  it("queue stuck: an op refused by the server, the rest waiting behind it", async () => {
    const { a, aId } = await twoDevices();
    const db = a.profile.db;
    db.transaction(() =>
      enqueue(
        db,
        {
          operationId: randomUUID(),
          lamportTs: a.profile.clock.next(),
          entity: "playlist",
          entityId: randomUUID(),
          field: null,
          op: "insert",
          value: { name: "Poison\u0000" },
        },
        Date.now(),
      ),
    )();
    await a.createPlaylist("Behind the poison");
    await a.start();
    await waitUntil("the poison is quarantined", () => a.diagnostics().quarantinedCount === 1);
    const d = await until("the report of the quarantine", async () => {
      const found = await explain(aId);
      return found.telemetry?.quarantinedCount === 1 ? found : undefined;
    });
    const stuck = verdict(d, "queue_stuck");
    expect(stuck.refused).toBe(1);
    expect(stuck.reason).toMatch(/U\+0000/);
    expect(stuck.waiting).toBe(d.telemetry?.queueDepth);
    expect(codes(d)[0]).toBe("queue_stuck");
    expect(verdictText(stuck)).toMatch(
      /^queue stuck: 1 op refused by the server \(.*U\+0000.*\), \d+ ops? waiting behind it$/,
    );
  });

  it("below the watermark: a full resync of every surviving op, then in sync again", async () => {
    const { a, b, aId, account } = await twoDevices();
    await a.start();
    await b.start();
    await a.createPlaylist("Before");
    await waitUntil("both synced", () => synced(a) && synced(b) && b.playlists().length === 1);
    // Op ids are one sequence for every account: this account's first is not 1.
    const first = (await backend.ops(account.userId))[0]?.id;
    await waitUntil(
      "a's ACK reached the server",
      async () => (await explain(aId)).cursor.effective === first,
    );
    await a.stop();
    for (let i = 0; i < 4; i++) await b.createPlaylist(`Compacted past a ${i}`);
    await waitUntil("b drained", () => synced(b));
    const ops = await backend.ops(account.userId);
    await backend.setWatermark(account.userId, ops.at(-1)?.id ?? 0);
    const d = await explain(aId);
    const below = verdict(d, "below_watermark");
    expect(below.cursor).toBe(ops[0]?.id);
    expect(below.watermark).toBe(ops.at(-1)?.id);
    expect(below.resyncOps).toBe(ops.length);
    expect(below.resyncBytes).toBeGreaterThan(0);
    expect(codes(d)[0]).toBe("below_watermark");
    expect(verdictText(below)).toMatch(/^below the watermark: its cursor \d+ is under/);
    // Broken promise check: the engine really is in that state, and gets out of it by resyncing.
    await a.start();
    await waitUntil("a resynced", () => a.playlists().length === 5 && synced(a));
    await waitUntil("in sync again", async () => codes(await explain(aId)).join() === "in_sync");
  });

  it("uploading, not in sync: online with changes waiting behind a push that has not returned", async () => {
    const { account, a, aId } = await twoDevices();
    await a.start();
    await waitUntil("a in sync", async () => codes(await explain(aId)).join() === "in_sync");
    // Hold the user's push lock: the device's push waits inside the server's transaction.
    const blocker = await backend.pool.connect();
    try {
      await blocker.query("BEGIN");
      await blocker.query(USER_LOCK_STATEMENT, [account.userId]);
      for (let i = 0; i < 3; i++) await a.createPlaylist(`Waiting ${i}`);
      await waitUntil("the push waits on the lock", async () => {
        const { rows } = await backend.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
        );
        return (rows[0]?.n ?? 0) > 0;
      });
      // As the console and /account see it (the server writes a device's report at most once a
      // second, so the one saying "3" may land a second after the push's own said "1"), and
      // as the device itself is told.
      const seen = await until("the server sees three waiting", async () => {
        const found = await explain(aId);
        const head = found.verdicts[0];
        return head?.code === "uploading" && head.waiting === 3 ? found : undefined;
      });
      expect(codes(seen)).toEqual(["uploading"]);
      const self = await a.explain();
      expect(codes(self)).toEqual(["uploading"]);
      expect(verdictText(verdict(self, "uploading"))).toBe(
        "uploading: 3 changes waiting to upload",
      );
    } finally {
      await blocker.query("ROLLBACK");
      blocker.release();
    }
    await waitUntil("a drained", () => synced(a));
    await waitUntil(
      "in sync once uploaded",
      async () => codes(await explain(aId)).join() === "in_sync",
    );
  });

  it("never connected: bound, never synced", async () => {
    const { bId } = await twoDevices();
    // b is bound (its device row and token exist) and its engine never started.
    const d = await explain(bId);
    expect(codes(d)).toEqual(["never_connected"]);
    expect(d.verdicts[0]?.runbook).toBe("never-connected");
    expect(verdictText(verdict(d, "never_connected"))).toBe(
      "never connected: bound, but it has not synced yet",
    );
  });

  it("catching up: online, an op received and not acknowledged yet", async () => {
    fleet = new EngineFleet();
    const account = await backend.createAccount();
    const a = fleet.open("a");
    // b acknowledges what it receives only after a minute: the server sees it behind meanwhile.
    const b = fleet.open("b", { timing: { ...FAST_TIMING, ackDebounceMs: 60_000 } });
    const devA = await account.device("laptop");
    const devB = await account.device("studio");
    await a.bind(devA.session);
    await b.bind(devB.session);
    await a.start();
    await b.start();
    await waitUntil("b online", async () => (await explain(devB.deviceId)).socket.online);
    await a.createPlaylist("On its way");
    await waitUntil("b received it", () => b.playlists().length === 1);
    const d = await explain(devB.deviceId);
    expect(codes(d)).toEqual(["catching_up"]);
    expect(verdict(d, "catching_up").opsBehind).toBe(1);
    expect(verdictText(verdict(d, "catching_up"))).toBe("catching up: 1 op behind");
  });

  it("skewed clock: the device's clock an hour ahead of the server's", async () => {
    const { a, aId } = await twoDevices({ a: { wallClock: () => Date.now() + 3_600_000 } });
    await a.start();
    await a.createPlaylist("From the future");
    await waitUntil("a drained", () => synced(a));
    const d = await until("a report", async () => {
      const found = await explain(aId);
      return found.telemetry ? found : undefined;
    });
    const skew = verdict(d, "clock_skewed");
    expect(skew.skewMs).toBeGreaterThan(3_500_000);
    expect(skew.skewMs).toBeLessThan(3_700_000);
    expect(verdictText(skew)).toBe(
      "clock skewed: this device's clock is 1 hour ahead of the server's",
    );
  });
});

describe("compaction what-if", () => {
  async function whatIf(userId: string): Promise<{
    devices: Array<{ deviceId: string; resyncOps: number; resyncBytes: number; target: number }>;
  }> {
    const { token } = await mintAccessToken(backend.key, {
      userId: randomUUID(),
      role: "admin",
      kind: "web",
    });
    const input = encodeURIComponent(JSON.stringify({ userId }));
    const response = await fetch(`${backend.syncUrl}/trpc/admin.compactionWhatIf?input=${input}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await response.json()) as { result?: { data: never } };
    if (!body.result) throw new Error(`compactionWhatIf failed: ${JSON.stringify(body)}`);
    return body.result.data;
  }

  it("lists the device a run would push into a full resync, with what it would download", async () => {
    const { a, b, aId, bId, account } = await twoDevices();
    await a.start();
    await b.start();
    const { id } = await a.createPlaylist("Renamed often");
    await waitUntil("both synced", () => synced(a) && synced(b) && b.playlists().length === 1);
    const first = (await backend.ops(account.userId))[0]?.id;
    await waitUntil("a's ACK stored", async () => (await explain(aId)).cursor.effective === first);
    await a.stop();
    for (let i = 0; i < 4; i++) await b.renamePlaylist(id, `Take ${i}`);
    await waitUntil("b drained", () => synced(b));
    const head = (await backend.ops(account.userId)).at(-1)?.id ?? 0;
    await waitUntil("b's ACK counted", async () => (await explain(bId)).cursor.effective === head);
    // While a is fresh, it holds compaction back: nobody is pushed below.
    expect((await whatIf(account.userId)).devices).toEqual([]);
    // Past the stale cut-off, it no longer does: the run would pass its cursor.
    await backdateSeen(aId, new Date(Date.now() - (STALE_DAYS + 1) * DAY_MS));
    const result = await whatIf(account.userId);
    expect(result.devices.map((d) => d.deviceId)).toEqual([aId]);
    const [forecast] = result.devices;
    expect(forecast?.target).toBe(head);
    // Five ops stored; the run deletes the superseded renames below the head and keeps the rest.
    expect(forecast?.resyncOps).toBeGreaterThan(0);
    expect(forecast?.resyncOps).toBeLessThan(5);
    expect(forecast?.resyncBytes).toBeGreaterThan(0);
  });
});

describe("admin actions", () => {
  async function adminCall(path: string, input: unknown, actorId: string) {
    const { token } = await mintAccessToken(backend.key, {
      userId: actorId,
      role: "admin",
      kind: "web",
    });
    const response = await fetch(`${backend.syncUrl}/trpc/${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(input),
    });
    const body = (await response.json()) as { result?: { data: unknown }; error?: unknown };
    if (!body.result) throw new Error(`${path} failed: ${JSON.stringify(body.error)}`);
    return body.result.data;
  }
  async function audit(actorId: string) {
    const { token } = await mintAccessToken(backend.key, {
      userId: actorId,
      role: "admin",
      kind: "web",
    });
    const input = encodeURIComponent(JSON.stringify({ limit: 200 }));
    const response = await fetch(`${backend.syncUrl}/trpc/admin.audit?input=${input}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await response.json()) as {
      result: {
        data: Array<{
          actorId: string;
          action: string;
          targetUserId: string | null;
          targetDeviceId: string | null;
          details: Record<string, unknown>;
        }>;
      };
    };
    return body.result.data.filter((row) => row.actorId === actorId);
  }

  it("an admin revokes a device through the one revoke path, and the audit log says who", async () => {
    const { a, aId, account } = await twoDevices();
    await a.start();
    await waitUntil("a connected", () => a.diagnostics().connection === "connected");
    const adminId = randomUUID();
    await adminCall("admin.revokeDevice", { deviceId: aId }, adminId);
    // The socket is closed at once and the engine knows it is revoked.
    await waitUntil("a learns it is revoked", () => a.diagnostics().connection === "revoked");
    expect(codes(await explain(aId))).toEqual(["revoked"]);
    const [entry] = await audit(adminId);
    expect(entry).toMatchObject({
      action: "device_revoked",
      targetUserId: account.userId,
      targetDeviceId: aId,
    });
  });

  it("a compaction an admin runs is audited with its what-if preview", async () => {
    const { account } = await twoDevices();
    const adminId = randomUUID();
    await adminCall("admin.runCompaction", { dryRun: true, userId: account.userId }, adminId);
    const [entry] = await audit(adminId);
    expect(entry).toMatchObject({ action: "compaction_run", targetUserId: account.userId });
    expect(entry?.details).toMatchObject({ dryRun: true, preview: [] });
  });
});

describe("status --explain", () => {
  it("prints the server's diagnosis of this profile's device", async () => {
    const temp = makeTempDir();
    try {
      const account = await backend.createAccount();
      const { deviceId } = await account.device("cli");
      const token = await backend.mint(account.userId, deviceId);
      let stdout = "";
      const io = {
        stdout: (t: string) => {
          stdout += t;
        },
        stderr: () => {},
        env: {},
        platform: "linux" as const,
        homedir: temp.path,
        cwd: temp.path,
      };
      const base = ["--data-dir", temp.path, "--profile", "cli"];
      expect(await runCli(["profile", "create", "cli", "--data-dir", temp.path], io)).toBe(0);
      const bind = ["bind-token", ...base, "--sync-url", backend.syncUrl, "--token", token];
      expect(await runCli(bind, io)).toBe(0);
      stdout = "";
      expect(await runCli(["status", "--explain", ...base], io)).toBe(0);
      expect(stdout).toContain(`(${deviceId})`);
      expect(stdout).toMatch(/Socket offline/);
      stdout = "";
      expect(await runCli(["status", "--explain", "--json", ...base], io)).toBe(0);
      const parsed = JSON.parse(stdout) as Diagnosis;
      expect(parsed.deviceId).toBe(deviceId);
      expect(formatDiagnosis(parsed)).toContain(parsed.name);
    } finally {
      temp.remove();
    }
  });
});
