import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type pg from "pg";
import type { EngineChildConfig } from "../child/engine.js";
import type { TraceDump } from "../child/trace.js";
import { type ChildHandle, startChild } from "../children.js";
import { CHILD_ENGINE, CHILD_SYNC_SERVER, type Section } from "../context.js";
import { FanoutRig } from "../fanout-rig.js";
import { type BenchDevice, seedDevices } from "../fixtures.js";
import { createPushClient } from "../http-push.js";
import { type EditPhases, editPhases, pausedDuring, summarizePhases } from "../phases.js";
import type { Progress } from "../progress.js";
import type { Figure } from "../report.js";
import { Samples } from "../stamps.js";
import { describeDistribution, type LatencyDistribution, type LatencySummary } from "../stats.js";

const RATE = 10;
const EDITS = 300;
const DRAIN_MS = 15_000;

interface GcDuring {
  major: number;
  minor: number;
  longestMs: number;
  totalMs: number;
}

export interface EngineRun {
  latency: LatencyDistribution;
  /** Garbage collection in A while it edited, and in B while it applied. */
  gc: { a: GcDuring; b: GcDuring };
  /** Where the time of the edits went, by stretch of their path (when traced). */
  phases?: string[];
}

/**
 * Two real engines (DeviceEngine, SQLite files in a temp dir, production timing) of one user,
 * each in a process of its own as a desktop runs it, through the server: a rename on A,
 * applied on B. Measured from just before A's edit to B's `remote-ops` event (emitted once the
 * op is applied in B's SQLite); both stamps are the machine's wall clock.
 */
export async function measureEngines(
  server: ChildHandle,
  devices: [BenchDevice, BenchDevice],
  progress: Progress,
  options: {
    encryptionPassword?: string;
    backlog?: number;
    /**
     * The bench database: Postgres is checkpointed before the edits (settlePostgres), and each
     * edit is stamped along its path to say where slow ones spent their time.
     */
    database?: pg.Pool;
  } = {},
): Promise<EngineRun & { backlogMs: number | null }> {
  const dataDir = mkdtempSync(join(tmpdir(), "chorus-bench-engines-"));
  const engines: ChildHandle[] = [];
  try {
    const syncUrl = `http://127.0.0.1:${server.port}`;
    for (const [index, device] of devices.entries()) {
      const profile = `bench-${index === 0 ? "a" : "b"}`;
      engines.push(
        await startChild(`engine ${profile}`, CHILD_ENGINE, {
          dataDir,
          profile,
          syncUrl,
          token: device.token,
          userId: device.userId,
          deviceId: device.deviceId,
          trace: options.database !== undefined,
        } satisfies EngineChildConfig),
      );
    }
    const [a, b] = engines as [ChildHandle, ChildHandle];
    await Promise.all(engines.map((engine) => engine.request("connected", { timeoutMs: 20_000 })));
    if (options.encryptionPassword) {
      progress.note("A sets the encryption password, B enters it");
      const password = options.encryptionPassword;
      await a.request("setEncryptionPassword", { password }, 60_000);
      await b.request("unlockEncryption", { password }, 60_000);
      await b.request("connected", { timeoutMs: 20_000 });
    }

    progress.note("engines connected (one process each); warm-up playlist from A to B");
    const id = await a.request<string>("createPlaylist", { name: "bench warm-up" });
    const warm = await b.request<boolean>("hasPlaylist", { playlistId: id, timeoutMs: 20_000 });
    if (!warm) throw new Error("the warm-up playlist did not reach engine B within 20 s");

    progress.note(`renaming on A ${RATE} times a second, ${EDITS} edits`);
    const pool = options.database;
    const settled = pool ? await settlePostgres(pool) : null;
    if (settled) progress.note(settled);
    await b.request("watch", { edits: EDITS });
    if (pool) await server.request("traceReset", { edits: EDITS });
    const checkpointsBefore = pool ? await checkpoints(pool) : null;
    const edited = await a.request<{ editedAt: number[]; gc: GcDuring }>(
      "edit",
      { playlistId: id, rate: RATE, edits: EDITS },
      (EDITS / RATE) * 1000 + 60_000,
    );
    const applied = await b.request<{ appliedAt: (number | null)[]; gc: GcDuring }>(
      "collect",
      { timeoutMs: DRAIN_MS },
      DRAIN_MS + 10_000,
    );
    const latency = new Samples(EDITS);
    for (let k = 0; k < EDITS; k++) {
      // NaN does not survive IPC's JSON: a missing receipt arrives as null.
      const at = applied.appliedAt[k];
      if (typeof at === "number") latency.add(at - (edited.editedAt[k] as number));
    }
    let phases: string[] | undefined;
    if (pool && checkpointsBefore !== null) {
      const checkpointsAfter = await checkpoints(pool);
      const dumps = await Promise.all(
        [a, b, server].map((child) => child.request<TraceDump | null>("traceDump")),
      );
      const createdAt = await opCreatedAt(pool, devices[0].userId);
      phases = [
        ...(settled ? [`Before the edits: ${settled}.`] : []),
        ...describePhases(
          edited.editedAt,
          dumps as [TraceDump, TraceDump, TraceDump],
          createdAt,
          checkpointsAfter - checkpointsBefore,
        ),
      ];
    }
    let backlogMs: number | null = null;
    if (options.backlog) {
      progress.note(`A queues ${options.backlog} renames offline, then drains them`);
      backlogMs = await a.request<number>(
        "drainBacklog",
        { playlistId: id, edits: options.backlog, timeoutMs: 120_000 },
        180_000,
      );
    }
    return {
      latency: latency.distribution(),
      gc: { a: edited.gc, b: applied.gc },
      backlogMs,
      ...(phases ? { phases } : {}),
    };
  } finally {
    await Promise.allSettled(engines.map((engine) => engine.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Writes out what earlier sections left in Postgres before the edits are timed. Section 4's
 * compaction writes ~500 MB of WAL, which starts a checkpoint spread over the next minute or
 * two: section 5's edits. On this one disk, which holds both the server's database and the
 * desktops' profiles, its writes compete with every commit of both engines: a stall no desktop
 * user sees, since their disk does not hold the sync server's. CHECKPOINT finishes it (and
 * writes whatever else is dirty) at once. Checkpoints Postgres starts on its own during the
 * edits are not prevented: the notes count them. Answers what was done, or why not.
 */
async function settlePostgres(pool: pg.Pool): Promise<string> {
  const started = performance.now();
  try {
    await pool.query("CHECKPOINT");
  } catch (error) {
    return `Postgres not checkpointed (${(error as Error).message}): pages earlier sections left may be written back while measuring`;
  }
  return `Postgres checkpointed (${((performance.now() - started) / 1000).toFixed(1)} s), so that what earlier sections wrote is not written back while measuring`;
}

/** Checkpoints the Postgres server started so far (all its databases: it may be shared). */
async function checkpoints(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ count: string }>(
    "SELECT checkpoints_timed + checkpoints_req AS count FROM pg_stat_bgwriter",
  );
  return Number(rows[0]?.count ?? 0);
}

/** When each edit's push statement began (the op's created_at, ms), by edit index. */
async function opCreatedAt(pool: pg.Pool, userId: string): Promise<(number | null)[]> {
  const { rows } = await pool.query<{ edit: string; at: number }>(
    `SELECT substring(value #>> '{}' FROM '^bench edit (\\d+)$') AS edit,
            extract(epoch FROM created_at) * 1000 AS at
       FROM sync_op WHERE user_id = $1::uuid AND value #>> '{}' LIKE 'bench edit %'`,
    [userId],
  );
  const at: (number | null)[] = new Array(EDITS).fill(null);
  for (const row of rows) {
    const k = Number(row.edit);
    if (k >= 0 && k < EDITS) at[k] = Number(row.at);
  }
  return at;
}

/** Edits slower than this are attributed to the stretch of their path that took longest. */
const SLOW_MS = 30;

/**
 * The notes on where the edits' time went: each stretch's p50 / p99 / max, and for the edits
 * over SLOW_MS the stretch they spent longest in, with the garbage-collection pauses of the
 * process it ran in.
 */
function describePhases(
  editedAt: number[],
  [a, b, server]: [TraceDump, TraceDump, TraceDump],
  createdAt: (number | null)[],
  checkpointsStarted: number,
): string[] {
  const row = (dump: TraceDump, phase: string) => dump.stamps[phase] ?? [];
  // Each stretch with the process whose pauses could have held it up.
  const path: Array<{ name: string; stamps: (number | null)[]; gc: TraceDump["gc"][] }> = [
    { name: "A commits the edit", stamps: row(a, "bench-a committed"), gc: [a.gc] },
    { name: "A's drain sends the push", stamps: row(a, "bench-a sent"), gc: [a.gc] },
    {
      name: "push reaches the server",
      stamps: row(server, "server received"),
      gc: [a.gc, server.gc],
    },
    { name: "server begins the push transaction", stamps: createdAt, gc: [server.gc] },
    {
      name: "statement and commit, until published",
      stamps: row(server, "server published"),
      gc: [server.gc],
    },
    { name: "server sends the frame", stamps: row(server, "server sent"), gc: [server.gc] },
    { name: "frame reaches B", stamps: row(b, "bench-b received"), gc: [server.gc, b.gc] },
    { name: "B applies it (remote-ops)", stamps: row(b, "bench-b applied"), gc: [b.gc] },
  ];
  const all = editPhases(editedAt, path, EDITS);
  const { phases, slow } = summarizePhases(
    all,
    path.map((phase) => phase.name),
    SLOW_MS,
  );
  const ms = (value: number) => (Number.isNaN(value) ? "—" : value.toFixed(1));
  const stretch = phases
    .map((p) => `${p.name} ${ms(p.p50)} / ${ms(p.p99)} / ${ms(p.max)}`)
    .join("; ");
  const gcIn = (edit: EditPhases) => {
    const spec = path.find((phase) => phase.name === edit.slowest);
    const span = edit.spans[edit.slowest];
    if (!spec || !span) return 0;
    return spec.gc.reduce((sum, pauses) => sum + pausedDuring(pauses, span[0], span[1]), 0);
  };
  const attributed = phases
    .filter((p) => p.slowestOf > 0)
    .map((p) => {
      const of = slow.filter((edit) => edit.slowest === p.name);
      const paused = of.filter((edit) => gcIn(edit) >= 0.5 * (edit.phases[p.name] ?? 0)).length;
      return `${p.name}: ${p.slowestOf} (${paused} of them mostly a garbage-collection pause)`;
    })
    .join("; ");
  const worst = [...slow]
    .sort((x, y) => y.totalMs - x.totalMs)
    .slice(0, 5)
    .map(
      (edit) =>
        `#${edit.edit} ${edit.totalMs.toFixed(0)} ms (${Object.entries(edit.phases)
          .filter(([, value]) => value >= 1)
          .map(([name, value]) => `${name} ${value.toFixed(0)}`)
          .join(", ")})`,
    )
    .join("; ");
  return [
    `Where the time went (each edit stamped on its way: A's commit and socket, the server's socket, the op's created_at, the bus, B's socket and apply; child/trace.ts), p50 / p99 / max ms per stretch over ${all.length} edits: ${stretch}.`,
    slow.length > 0
      ? `The ${slow.length} edits over ${SLOW_MS} ms by the stretch they spent longest in: ${attributed}. Slowest: ${worst}. Postgres started ${checkpointsStarted} checkpoint(s) while measuring (the whole server's count: other databases' included).`
      : `No edit took over ${SLOW_MS} ms. Postgres started ${checkpointsStarted} checkpoint(s) while measuring (the whole server's count).`,
  ];
}

/** The baseline: the same round trip with bare clients (HTTP push, one raw tRPC socket). */
async function measureBare(
  server: ChildHandle,
  devices: [BenchDevice, BenchDevice],
  progress: Progress,
): Promise<LatencySummary> {
  const [pusher, subscriber] = devices;
  const client = createPushClient(server.port, 1);
  let rig: FanoutRig | undefined;
  try {
    rig = await FanoutRig.connect(
      [{ label: "bare", url: `ws://127.0.0.1:${server.port}/trpc`, devices: [subscriber] }],
      EDITS,
      progress,
    );
    await rig.warmUp(client, [pusher], progress);
    await rig.pushAtRate(
      client,
      [pusher],
      { rate: RATE, count: EDITS, expectedDeliveries: EDITS, drainMs: DRAIN_MS },
      progress,
    );
    const group = rig.groups[0];
    if (!group) throw new Error("no subscriber group");
    return group.send.summary();
  } finally {
    rig?.close();
    client.close();
  }
}

export const engineLatency: Section = {
  number: 5,
  title: "Engine-to-engine latency",
  budgetMs: 120_000,
  async run(context, progress) {
    const [devices] = await seedDevices(context.pool, context.key, 1, 4);
    if (!devices || devices.length < 4) throw new Error("no devices seeded");
    const server = await startChild("sync-server", CHILD_SYNC_SERVER, {
      databaseUrl: context.databaseUrl,
      jwks: context.jwks,
      trace: true,
    });
    let run: EngineRun;
    let bare: LatencySummary;
    try {
      run = await measureEngines(
        server,
        [devices[0], devices[1]] as [BenchDevice, BenchDevice],
        progress,
        { database: context.pool },
      );
      bare = await measureBare(
        server,
        [devices[2], devices[3]] as [BenchDevice, BenchDevice],
        progress,
      );
    } finally {
      await server.stop();
    }
    const engines = run.latency;
    const gc = (g: GcDuring) =>
      `${g.major} major and ${g.minor} minor collections, longest pause ${g.longestMs.toFixed(1)} ms, ${g.totalMs.toFixed(0)} ms in all`;
    const figures: Figure[] = [
      {
        name: "engine-to-engine p50 (edit on A -> applied on B)",
        unit: "ms",
        value: engines.p50,
        baselineName: "bare push -> socket receipt",
        baseline: bare.p50,
        better: "lower",
      },
      {
        name: "engine-to-engine p99",
        unit: "ms",
        value: engines.p99,
        baselineName: "bare push -> socket receipt",
        baseline: bare.p99,
        better: "lower",
        target: { on: "figure", kind: "max", value: 30 },
      },
      {
        name: "engine-to-engine max",
        unit: "ms",
        value: engines.max,
        baselineName: "bare push -> socket receipt",
        baseline: bare.max,
        better: "lower",
        target: { on: "figure", kind: "max", value: 100 },
      },
    ];
    return {
      figures,
      notes: [
        `Two DeviceEngines of @chorus/desktop-sync (SQLite profiles in a temp dir, Hybrid mode, production timing: drain woken by each commit, subscription over wsLink) of one user, each in a process of its own as a desktop runs it (src/child/engine.ts), bound with device tokens to the real server in its own process. A renames a playlist ${RATE} times a second (${EDITS} edits); each latency runs from just before A's edit to B's \`remote-ops\` event for it (applied in B's SQLite), both stamped with the machine's wall clock. ${engines.count} of ${EDITS} edits seen on B.`,
        `Distribution: ${describeDistribution(engines)}.`,
        `Garbage collection while measuring: engine A ${gc(run.gc.a)}; engine B ${gc(run.gc.b)}.`,
        ...(run.phases ?? []),
        `Baseline: the same server round trip without engines — a bare HTTP push of one op by a third device (stamped when sent) and a raw tRPC socket of a fourth device receiving it, ${RATE}/s, ${EDITS} pushes: ${bare.count} deliveries, max ${bare.max.toFixed(1)} ms. The ratio is what the engines add (SQLite transactions, queue, drain, typed client, apply).`,
      ],
    };
  },
};
