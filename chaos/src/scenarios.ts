import { join } from "node:path";
import { openStore } from "@chorus/desktop-sync";
import type { DeviceProcess } from "./devices.js";
import { deviceView, firstDivergence, foldView, type History, withClient } from "./history.js";
import type { DeviceStatus } from "./ipc.js";
import { Rng } from "./rng.js";
import type { ServerReplica } from "./servers.js";
import { sleep, waitUntil } from "./util.js";

/**
 * What the safeguard scenarios need from a run: its processes, its checks' state and the
 * harness's steps (compaction through the real endpoint, ageing a device in Postgres).
 */
export interface ScenarioContext {
  seed: number;
  devices: readonly DeviceProcess[];
  servers: readonly ServerReplica[];
  history: History;
  dbUrl: () => string;
  /** Devices whose new connections go to one replica only. */
  pins: Map<string, ServerReplica>;
  /** Devices that may (Infinity) or must (their cursor) resync before their cursor moves. */
  awayCursor: Map<DeviceProcess, number>;
  violations: string[];
  note(kind: string, target: string, detail?: string): void;
  statusOf(device: DeviceProcess): Promise<DeviceStatus | null>;
  newest(userId: string): Promise<number>;
  watermarkOf(userId: string): Promise<number>;
  persistedCursor(device: DeviceProcess): number;
  ageDevice(device: DeviceProcess): Promise<void>;
  advancePeers(device: DeviceProcess, rng: Rng): Promise<void>;
  compact(userId: string, label: string, via?: ServerReplica): Promise<boolean>;
  /** devices.revoke with the user's web token, as the account page revokes a device. */
  revoke(device: DeviceProcess): Promise<void>;
  /** Binds the device's profile anew under a new device id of the same user. */
  rebind(device: DeviceProcess): Promise<string | null>;
}

/** Bound of every wait in a scenario: generous, the machine may be very busy. */
const BOUND_MS = 90_000;
const ATTEMPTS = 4;

/**
 * The safeguard scenarios: each drives the system, on purpose and with seeded choices, into
 * the situation one safeguard exists for, checks that it actually got there (else it tries
 * again, and a scenario that never got there fails the run as vacuous), and leaves the
 * verdict to the run's checks plus a direct one where the scenario can make it. They run
 * before the random faults, two chains in parallel (one per user); compactions are
 * serialised by the harness.
 */
export async function runScenarios(ctx: ScenarioContext, userIds: readonly string[]) {
  const of = (userId: string) => ctx.devices.filter((d) => d.userId === userId);
  const [u0, u1] = [userIds[0] ?? "", userIds[1] ?? userIds[0] ?? ""];
  const [a, b] = [ctx.servers[0], ctx.servers[1]];
  if (!a || !b) throw new Error("the scenarios need two replicas");
  const chain0 = async () => {
    await lockStorm(ctx, of(u0));
    const r = of(u0)[1];
    if (r) await ackFlush(ctx, r, a, b, "remote");
    const v = of(u0)[2];
    if (v) await revokeRebind(ctx, v, { inFlight: "required" });
  };
  const chain1 = async () => {
    const d = of(u1)[0];
    if (d) await watermarkPull(ctx, d);
    const r = of(u1)[1];
    if (r && u1 !== u0) await ackFlush(ctx, r, a, a, "local");
  };
  const results = await Promise.allSettled([chain0(), chain1()]);
  for (const result of results) {
    if (result.status === "rejected")
      ctx.violations.push(`harness: a scenario failed: ${String(result.reason)}`);
  }
}

/** The devices each scenario pins to a replica from the start (see ackFlush). */
export function scenarioPins(
  devices: readonly DeviceProcess[],
  userIds: readonly string[],
  servers: readonly ServerReplica[],
): Map<string, ServerReplica> {
  const pins = new Map<string, ServerReplica>();
  const a = servers[0];
  if (!a) return pins;
  for (const userId of userIds.slice(0, 2)) {
    const r = devices.filter((d) => d.userId === userId)[1];
    if (r) pins.set(r.label, a);
  }
  return pins;
}

/**
 * The per-user lock of `chorus_push_ops`. Rounds of a database stall while every device of one
 * user pushes: the harness holds `sync_op` in SHARE mode (inserts wait, reads go on) while the
 * devices edit, until a push of each device is waiting in Postgres (at most 12 s: a push that
 * times out meanwhile is retried, and idempotency makes the retry harmless), then lets go;
 * then the devices edit on as fast as they can; their connections are cut at the end of the
 * round, so the next round's are spread over both replicas anew. A reader polls the user's log every few ms throughout. With the lock, the
 * waiting pushes run one after the other. Without it, each has read the user's newest id
 * before any of them inserts: their ids interleave and commit in any order, so the poller sees
 * ids appear below its position (a subscriber would skip them forever) and each push's
 * fan-out ("ops after the newest id I saw") makes subscribers jump over the others' ops (they
 * diverge). Vacuous unless two pushes were seen waiting together in every round.
 */
async function lockStorm(ctx: ScenarioContext, group: readonly DeviceProcess[]): Promise<void> {
  const userId = group[0]?.userId;
  if (!userId) return;
  for (const device of group) device.quiet = true; // only the storm's edits, so the fold is exact
  try {
    await stormRounds(ctx, group, userId);
  } finally {
    for (const device of group) device.quiet = false;
  }
}

async function stormRounds(
  ctx: ScenarioContext,
  group: readonly DeviceProcess[],
  userId: string,
): Promise<void> {
  let full = 0;
  for (let round = 1; round <= 3 || (full < 3 && round <= 3 + ATTEMPTS); round++) {
    const writers = group.filter((d) => d.usable);
    ctx.note(
      "scenario-lock-storm",
      userId.slice(0, 8),
      `round ${round}, ${writers.length} devices`,
    );
    let storming = true;
    const poller = withClient(ctx.dbUrl(), async (client) => {
      while (storming) {
        await ctx.history.pollWith(client, [userId]);
        await sleep(2);
      }
    }).catch(() => {});
    const rngs = writers.map((_, i) => new Rng(ctx.seed * 131 + round * 17 + i));
    const edit = (i: number) =>
      writers[i]?.edit(Array.from({ length: 8 }, () => (rngs[i] as Rng).next()));
    let waiting = 0;
    await withClient(ctx.dbUrl(), async (gate) => {
      await gate.query("BEGIN");
      await gate.query("LOCK TABLE sync_op IN SHARE MODE");
      const held = Date.now();
      try {
        const edits = writers.map(async (_, i) => {
          for (let k = 0; k < 3; k++) await edit(i);
        });
        await waitUntil(
          async () => {
            // Inside a transaction the statistics views keep their first snapshot: clear it.
            await gate.query("SELECT pg_stat_clear_snapshot()");
            const { rows } = await gate.query<{ n: string }>(
              `SELECT count(*) AS n FROM pg_stat_activity
                WHERE state = 'active' AND query LIKE '%chorus_push_ops(%' AND pid <> pg_backend_pid()`,
            );
            waiting = Math.max(waiting, Number(rows[0]?.n ?? 0));
            return waiting >= writers.length || Date.now() - held > 12_000;
          },
          15_000,
          20,
        );
        await Promise.race([Promise.all(edits), sleep(300)]);
      } finally {
        await gate.query("COMMIT");
      }
    }).catch((error: unknown) => ctx.note("scenario-note", userId.slice(0, 8), String(error)));
    if (waiting >= 2) full++;
    await Promise.all(
      writers.map(async (device, i) => {
        for (let k = 0; k < 20 && device.usable; k++) await edit(i);
      }),
    );
    // Until every push of the storm is stored and every device has applied the others'.
    await waitUntil(
      async () => {
        const head = await ctx.newest(userId).catch(() => -1);
        for (const device of writers) {
          const status = await ctx.statusOf(device);
          if (!status || status.pendingCount > 0 || status.cursor < head) return false;
        }
        return true;
      },
      BOUND_MS,
      250,
    );
    storming = false;
    await poller;
    // Right away, before a later resync could repair a device that skipped ops: every
    // device of the user holds the LWW fold of the user's history.
    await ctx.history.poll(ctx.dbUrl(), [userId]);
    const expected = foldView(ctx.history.opsOf(userId));
    for (const device of writers) {
      const db = openStore(join(device.dataDir, "profiles", "device", "profile.db"));
      let d: ReturnType<typeof firstDivergence>;
      try {
        d = firstDivergence(expected, deviceView(db));
      } finally {
        db.close();
      }
      if (d) {
        ctx.violations.push(
          `DIVERGED: ${device.label} right after push storm round ${round}: ${d.key} field ${d.field}: expected ${JSON.stringify(d.expected)}, seen ${JSON.stringify(d.seen)}`,
        );
      }
    }
    for (const device of writers) device.proxy.drop();
    ctx.note("scenario-lock-storm-done", userId.slice(0, 8), `${waiting} pushes waiting at once`);
  }
  if (full < 3) {
    ctx.violations.push(
      `vacuous scenario lock-storm: fewer than 3 rounds with two of one user's pushes in Postgres at once (${full})`,
    );
  }
}

/** device_sync_cursor of a device as stored (null: no row). */
async function storedCursor(
  ctx: ScenarioContext,
  device: DeviceProcess,
): Promise<{ id: number; at: number } | null> {
  return await withClient(ctx.dbUrl(), async (c) => {
    const { rows } = await c.query<{ id: string; at: Date }>(
      "SELECT last_seen_id AS id, last_seen_at AS at FROM device_sync_cursor WHERE device_id = $1",
      [device.deviceId],
    );
    const row = rows[0];
    return row ? { id: Number(row.id), at: row.at.getTime() } : null;
  }).catch(() => null);
}

/** The highest ACK any replica answered this device. */
const lastAcked = (device: DeviceProcess) => Math.max(0, ...device.proxy.ackedOn.values());

/**
 * Kills a device and makes it stale: its buffered ACKs written first (a compaction flushes
 * every replica's; the periodic flush is the fallback), then its rows aged two days.
 */
async function sendAway(ctx: ScenarioContext, device: DeviceProcess): Promise<void> {
  await device.kill();
  await ctx.compact(device.userId, `${device.label} flush`);
  const acked = lastAcked(device);
  const flushed = await waitUntil(
    async () => ((await storedCursor(ctx, device))?.id ?? 0) >= acked,
    BOUND_MS,
    500,
  );
  if (!flushed) ctx.note("scenario-note", device.label, `its ACK ${acked} was never written`);
  await ctx.ageDevice(device);
}

/**
 * The watermark check on pull. A device that has applied ops (persisted cursor > 0) goes away
 * for longer than the stale window; the others move on and ACK; compaction raises the
 * watermark past its cursor. It comes back: its first pull (or subscription) from that cursor
 * must be refused with resync_required, and it must rebuild before its cursor moves (the
 * run's cursor check). Without the check it would apply what is left after its cursor and
 * miss what compaction deleted.
 */
async function watermarkPull(ctx: ScenarioContext, device: DeviceProcess): Promise<void> {
  const rng = new Rng(ctx.seed * 977 + 1);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const applied = await waitUntil(
      async () => ((await ctx.statusOf(device))?.cursor ?? 0) > 0,
      BOUND_MS,
      500,
    );
    if (!applied || !device.usable) {
      ctx.note("scenario-note", device.label, "watermark-pull: the device applied nothing yet");
      continue;
    }
    ctx.note("scenario-watermark-pull", device.label, `attempt ${attempt}`);
    ctx.awayCursor.set(device, Number.POSITIVE_INFINITY); // may resync from now on
    await sendAway(ctx, device);
    await ctx.advancePeers(device, rng);
    await ctx.compact(device.userId, device.label);
    const cursor = ctx.persistedCursor(device);
    const watermark = await ctx.watermarkOf(device.userId).catch(() => 0);
    const exercised = cursor > 0 && cursor < watermark;
    if (exercised) ctx.awayCursor.set(device, cursor);
    else ctx.awayCursor.delete(device);
    ctx.note(
      "device-restart",
      device.label,
      `cursor ${cursor}, watermark ${watermark}${exercised ? "" : " (not below: again)"}`,
    );
    await device.start();
    if (!exercised) continue;
    // Back: it must resync (awayCursor cleared by the resync) before its cursor moves, which
    // the run's status check reports; wait until one of the two happened.
    const settled = await waitUntil(
      async () => {
        await ctx.statusOf(device);
        return !ctx.awayCursor.has(device);
      },
      BOUND_MS,
      500,
    );
    if (!settled) {
      ctx.violations.push(
        `${device.label}: back below the watermark (cursor ${cursor}, watermark ${watermark}), it neither resynced nor moved in ${BOUND_MS / 1000} s`,
      );
    }
    ctx.note("scenario-watermark-pull-done", device.label);
    return;
  }
  ctx.violations.push(
    `vacuous scenario watermark-pull: ${device.label}'s cursor was never below the watermark in ${ATTEMPTS} attempts`,
  );
}

/**
 * The ACK flush before compaction's MIN. A device away for longer than the stale window comes
 * back (pinned to replica `holder`), catches up and ACKs: that ACK sits in `holder`'s buffer
 * (flushed every 60 s), and its stored row still says "stale". It is stopped there while the
 * others move on through the other replica, which writes their ACKs when their connections
 * are cut; compaction runs through replica `runner` (the other one: only the cross-replica
 * flush request brings the ACK in; the same one: its local flush or buffer does). The
 * watermark must not pass the ACK: checked directly, and when the device continues it must
 * not need a resync (the run's check). The ACK still being buffered is checked before the
 * compaction (else the attempt proves nothing and is repeated).
 */
async function ackFlush(
  ctx: ScenarioContext,
  device: DeviceProcess,
  holder: ServerReplica,
  runner: ServerReplica,
  variant: "remote" | "local",
): Promise<void> {
  const rng = new Rng(ctx.seed * 613 + (variant === "remote" ? 2 : 3));
  const name = `ack-flush-${variant}`;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    if (!device.usable) await waitUntil(() => device.usable, BOUND_MS);
    ctx.note(
      `scenario-${name}`,
      device.label,
      `attempt ${attempt}, ACK on ${holder.name}, compaction on ${runner.name}`,
    );
    ctx.pins.set(device.label, holder);
    ctx.awayCursor.set(device, Number.POSITIVE_INFINITY); // the return itself may resync
    await sendAway(ctx, device);
    await ctx.advancePeers(device, rng);
    await device.start();
    // Catch up (a resync is allowed: it was away), then its ACK of the head reaches `holder`.
    let head = 0;
    const caughtUp = await waitUntil(
      async () => {
        head = await ctx.newest(device.userId).catch(() => -1);
        const status = await ctx.statusOf(device);
        return !!status && status.pendingCount === 0 && status.cursor === head;
      },
      BOUND_MS,
      250,
    );
    const port = holder.port;
    const acked = await waitUntil(
      () => port !== null && (device.proxy.ackedOn.get(port) ?? 0) >= head,
      BOUND_MS,
      100,
    );
    ctx.awayCursor.delete(device); // back and ACKed: from now on a resync is a violation
    if (!caughtUp || !acked || port === null) {
      ctx.note("scenario-note", device.label, `${name}: did not catch up and ACK ${head}`);
      continue;
    }
    device.pause();
    // The others move on through the other replica; their connections are then cut, and
    // that replica writes each one's ACKs as its socket closes: their stored cursors are past
    // the device's ACK, which only sits in `holder`'s buffer.
    const peers = ctx.devices.filter((d) => d !== device && d.userId === device.userId);
    const other = ctx.servers.find((s) => s !== holder) ?? holder;
    for (const peer of peers) {
      ctx.pins.set(peer.label, other);
      peer.proxy.drop();
    }
    await ctx.advancePeers(device, rng);
    const newest = await ctx.newest(device.userId).catch(() => head);
    for (const peer of peers) peer.proxy.drop();
    const peersWritten = await waitUntil(
      async () => {
        for (const peer of peers.filter((p) => p.usable)) {
          if (((await storedCursor(ctx, peer))?.id ?? 0) < newest) {
            peer.proxy.drop(); // its last ACK came after the cut: cut again
            return false;
          }
        }
        return true;
      },
      BOUND_MS,
      1_000,
    );
    for (const peer of peers) ctx.pins.delete(peer.label);
    // Its last ACK before it stopped (it may have applied and ACKed a little past `head`).
    const ack = device.proxy.ackedOn.get(port) ?? head;
    const stored = await storedCursor(ctx, device);
    const buffered = stored === null || stored.id < ack || stored.at < Date.now() - 12 * 3600_000;
    if (!buffered || newest <= ack || !peersWritten) {
      ctx.note(
        "scenario-note",
        device.label,
        `${name}: ACK ${ack} already written (${JSON.stringify(stored)}), no newer op (${newest}) or the others' ACKs not written: again`,
      );
      device.resume();
      continue;
    }
    await ctx.compact(device.userId, device.label, runner);
    const watermark = await ctx.watermarkOf(device.userId).catch(() => 0);
    ctx.note(
      `scenario-${name}-done`,
      device.label,
      `ACK ${ack}, head ${newest}, watermark ${watermark}`,
    );
    if (watermark > ack) {
      ctx.violations.push(
        `${device.label}: compaction on ${runner.name} raised the watermark to ${watermark}, past the ACK ${ack} the device had made on ${holder.name} (buffered, not yet written): the ACK flush before MIN did not count it`,
      );
    }
    device.resume();
    const back = await waitUntil(
      async () => {
        const status = await ctx.statusOf(device);
        const now = await ctx.newest(device.userId).catch(() => -1);
        return !!status && status.cursor === now;
      },
      BOUND_MS,
      250,
    );
    if (!back) ctx.note("scenario-note", device.label, `${name}: not back at the head yet`);
    return;
  }
  ctx.violations.push(
    `vacuous scenario ${name}: ${device.label}'s ACK was never still buffered at compaction in ${ATTEMPTS} attempts`,
  );
}

/**
 * A device revoked and its profile bound anew, with a push in flight. The device pushes; the
 * server stores the push but its answer is cut and the device partitioned at that moment, so
 * the ops stay queued on the device though the server holds them (checked: some operation
 * id queued in its SQLite profile is stored in Postgres). Offline, it queues more edits; the
 * account revokes it (devices.revoke, as the account page does); back online, its next
 * request is refused with device_revoked and the engine enters its revoked state, keeping
 * its library and its queue (it may go on editing locally). Then the same SQLite profile is
 * bound under a new device id of the same account, as a browser sign-in would: the engine's
 * bind keeps the cursor and uploads the queue renamed to the new id, so the ops the server
 * stored are sent again under another device id. Checked here: it entered the revoked state,
 * kept every queued op, drained and caught up after the re-bind, and each op that was in
 * flight is stored once (push idempotency is per user and operation id); the run's checks
 * then prove nothing it committed was lost and it converged.
 *
 * `inFlight: "required"` (the scenario) tries up to ATTEMPTS times to get a push stored but
 * unanswered and fails the run as vacuous if it never does; `"try"` (the random fault) arms
 * the cut once and goes on whatever came of it.
 */
export async function revokeRebind(
  ctx: ScenarioContext,
  device: DeviceProcess,
  options: { inFlight: "required" | "try" },
): Promise<void> {
  const rng = new Rng(ctx.seed * 409 + 5);
  const edits = () => Array.from({ length: 8 }, () => rng.next());
  if (!device.usable) await waitUntil(() => device.usable, BOUND_MS);
  if (!device.usable) {
    ctx.note("scenario-note", device.label, "revoke: the device is not running");
    return;
  }
  const required = options.inFlight === "required";
  // The scenario's device edits only when told to, so what is in flight is its own doing.
  if (required) device.quiet = true;
  try {
    let inFlight: string[] = [];
    const attempts = required ? ATTEMPTS : 1;
    for (let attempt = 1; attempt <= attempts && inFlight.length === 0; attempt++) {
      const cutBefore = device.proxy.answersCut;
      device.proxy.cutNextPushAnswer(BOUND_MS * 4);
      await device.edit(edits());
      const cut = await waitUntil(
        () => device.proxy.answersCut > cutBefore,
        required ? BOUND_MS : 10_000,
        25,
      );
      if (cut) inFlight = await storedButQueued(ctx, device);
      if (inFlight.length > 0 || !required) break;
      // Not there (the answer was a refusal, or the op reached the device another way):
      // back online, drained, and again.
      ctx.note("scenario-note", device.label, `revoke: attempt ${attempt}: no push in flight`);
      device.proxy.heal();
      await waitUntil(async () => (await ctx.statusOf(device))?.pendingCount === 0, BOUND_MS, 250);
    }
    if (required && inFlight.length === 0) {
      device.proxy.heal();
      ctx.violations.push(
        `vacuous scenario revoke: ${device.label} never had a push stored but unanswered when revoked in ${ATTEMPTS} attempts`,
      );
      return;
    }
    if (inFlight.length > 0) {
      // Counted in the report: revocations that met a push stored but unanswered.
      ctx.note(
        "revoked-with-ops-in-flight",
        device.label,
        `${inFlight.length} ops stored by the server but still queued on the device`,
      );
    }
    await revokeAndBindAnew(ctx, device, edits, inFlight);
  } finally {
    device.quiet = false;
  }
}

/** Operation ids queued on the device (its SQLite profile) that the server has stored. */
async function storedButQueued(ctx: ScenarioContext, device: DeviceProcess): Promise<string[]> {
  const db = openStore(join(device.dataDir, "profiles", "device", "profile.db"));
  let queued: string[];
  try {
    queued = db.prepare("SELECT operation_id FROM sync_pending_op").pluck().all() as string[];
  } finally {
    db.close();
  }
  if (queued.length === 0) return [];
  return await withClient(ctx.dbUrl(), async (client) => {
    const { rows } = await client.query<{ operation_id: string }>(
      "SELECT operation_id FROM sync_op WHERE user_id = $1 AND operation_id = ANY($2::uuid[])",
      [device.userId, queued],
    );
    return rows.map((row) => row.operation_id);
  }).catch(() => []);
}

async function revokeAndBindAnew(
  ctx: ScenarioContext,
  device: DeviceProcess,
  edits: () => number[],
  inFlight: readonly string[],
): Promise<void> {
  const oldId = device.deviceId;
  ctx.note("scenario-revoke", device.label, `device ${oldId.slice(0, 8)}`);
  device.proxy.partition(BOUND_MS * 4);
  for (let i = 0; i < 4; i++) await device.edit(edits());
  const before = await ctx.statusOf(device);
  const queued = before?.pendingCount ?? 0;
  await ctx.revoke(device);
  device.proxy.heal();
  let revoked: Awaited<ReturnType<ScenarioContext["statusOf"]>> = null;
  const entered = await waitUntil(
    async () => {
      revoked = await ctx.statusOf(device);
      return revoked?.connection === "revoked" && revoked.revokedAt !== null;
    },
    BOUND_MS,
    250,
  );
  if (!entered) {
    ctx.violations.push(
      `${device.label}: revoked on the server, it never entered its revoked state (${JSON.stringify(revoked)})`,
    );
    return;
  }
  const kept = (revoked as { pendingCount: number } | null)?.pendingCount ?? 0;
  if (kept < queued) {
    ctx.violations.push(
      `${device.label}: ${queued} ops were queued when it was revoked, ${kept} after: a revocation dropped queued edits`,
    );
  }
  // Edits made while revoked stay on the computer and go up after the re-bind.
  for (let i = 0; i < 2; i++) await device.edit(edits());
  const outcome = await ctx.rebind(device);
  ctx.note(
    "scenario-rebind",
    device.label,
    `device ${oldId.slice(0, 8)} -> ${device.deviceId.slice(0, 8)}: ${outcome}, ${kept} ops queued at the revocation`,
  );
  let last: Awaited<ReturnType<ScenarioContext["statusOf"]>> = null;
  const drained = await waitUntil(
    async () => {
      last = await ctx.statusOf(device);
      const head = await ctx.newest(device.userId).catch(() => -1);
      return (
        !!last && last.connection !== "revoked" && last.pendingCount === 0 && last.cursor === head
      );
    },
    BOUND_MS,
    250,
    // Random faults may kill it meanwhile: the bound counts from its last start.
    () => device.readyAt,
  );
  if (!drained) {
    ctx.violations.push(
      `${device.label}: bound anew as ${device.deviceId.slice(0, 8)}, it did not drain its queue and catch up within ${BOUND_MS / 1000} s of its last start (${JSON.stringify(last)})`,
    );
  }
  // The ops that were in flight went up again under the new device id: each is stored once.
  if (drained && inFlight.length > 0) {
    const copies = await withClient(ctx.dbUrl(), async (client) => {
      const { rows } = await client.query<{ operation_id: string; n: string }>(
        `SELECT operation_id, count(*) AS n FROM sync_op
          WHERE user_id = $1 AND operation_id = ANY($2::uuid[]) GROUP BY operation_id`,
        [device.userId, [...inFlight]],
      );
      return rows;
    }).catch(() => null);
    for (const row of copies ?? []) {
      if (Number(row.n) !== 1) {
        ctx.violations.push(
          `${device.label}: operation ${row.operation_id}, stored before the revocation and re-sent under the new device id, has ${row.n} stored copies`,
        );
      }
    }
  }
  ctx.note(
    "scenario-revoke-done",
    device.label,
    `queued ${queued}, kept ${kept}, ${inFlight.length} in flight`,
  );
}
