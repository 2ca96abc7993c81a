import { AckBuffer, compactUser, DEFAULT_COMPACTION_SETTINGS } from "@chorus/api";
import { createPrisma, USER_LOCK_STATEMENT } from "@chorus/db";
import pg from "pg";
import { type ChildHandle, startChild } from "../children.js";
import { compareInRounds, ROUND_MS, ROUNDS, WARMUP_MS } from "../closed-loop.js";
import { type BenchContext, CHILD_SYNC_SERVER, type Section } from "../context.js";
import { createSiblingDatabase } from "../database.js";
import { type BenchDevice, nextOps, seedDevices } from "../fixtures.js";
import { createPushClient, type PushClient } from "../http-push.js";
import type { Progress } from "../progress.js";
import type { Figure } from "../report.js";
import { ratePerSecond } from "../stats.js";
import { seedLog } from "./compaction.js";
import { measureSync, type Scenario } from "./fanout-latency.js";

export const PARTITIONS = 8;
const DEVICES = 8;
const COMPACTION_OPS = 200_000;

/**
 * What the real migrations leave on sync_op that the transformation below replaces; checked
 * before it runs, so a later migration that adds an index or a key to sync_op stops this
 * section (the transformation must then be taught about it) instead of being silently lost.
 */
const EXPECTED_INDEXES = [
  "sync_op_pkey",
  "sync_op_user_id_device_id_lamport_ts_key",
  "sync_op_user_id_id_idx",
  "sync_op_user_id_operation_id_key",
];
const EXPECTED_CONSTRAINTS = ["sync_op_device_id_fkey", "sync_op_pkey", "sync_op_user_id_fkey"];

/**
 * The transformation, run on a freshly migrated (empty) database: sync_op becomes
 * `PARTITION BY HASH (user_id)` with PARTITIONS partitions. Columns, types, defaults (the id's
 * BIGSERIAL sequence, created_at) and NOT NULLs are copied with LIKE; the sequence is handed
 * to the new table. What changes: the primary key becomes (user_id, id) — a partitioned
 * table's unique keys must contain the partition key — which also serves every
 * (user_id, id) lookup, so the separate sync_op_user_id_id_idx is not recreated; the two
 * unique keys already start with user_id and are recreated as they were; both foreign keys
 * are recreated. chorus_push_ops and every other statement name sync_op and are untouched.
 */
export const PARTITION_SQL = `
ALTER TABLE sync_op RENAME TO sync_op_unpartitioned;
ALTER SEQUENCE sync_op_id_seq OWNED BY NONE;
CREATE TABLE sync_op (LIKE sync_op_unpartitioned INCLUDING DEFAULTS INCLUDING STORAGE)
  PARTITION BY HASH (user_id);
DROP TABLE sync_op_unpartitioned;
ALTER SEQUENCE sync_op_id_seq OWNED BY sync_op.id;
ALTER TABLE sync_op ADD CONSTRAINT sync_op_pkey PRIMARY KEY (user_id, id);
CREATE UNIQUE INDEX sync_op_user_id_operation_id_key ON sync_op (user_id, operation_id);
CREATE UNIQUE INDEX sync_op_user_id_device_id_lamport_ts_key ON sync_op (user_id, device_id, lamport_ts);
ALTER TABLE sync_op ADD CONSTRAINT sync_op_user_id_fkey FOREIGN KEY (user_id)
  REFERENCES users (id) ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE sync_op ADD CONSTRAINT sync_op_device_id_fkey FOREIGN KEY (device_id)
  REFERENCES devices (id) ON DELETE CASCADE ON UPDATE CASCADE;
${Array.from(
  { length: PARTITIONS },
  (_, r) =>
    `CREATE TABLE sync_op_p${r} PARTITION OF sync_op FOR VALUES WITH (MODULUS ${PARTITIONS}, REMAINDER ${r});`,
).join("\n")}
`;

const CHECK_SQL = `
DO $$
DECLARE
  found_indexes text;
  found_constraints text;
BEGIN
  SELECT string_agg(indexname, ',' ORDER BY indexname) INTO found_indexes
    FROM pg_indexes WHERE tablename = 'sync_op';
  SELECT string_agg(conname, ',' ORDER BY conname) INTO found_constraints
    FROM pg_constraint WHERE conrelid = 'sync_op'::regclass;
  IF found_indexes <> '${EXPECTED_INDEXES.join(",")}'
     OR found_constraints <> '${EXPECTED_CONSTRAINTS.join(",")}'
     OR pg_get_serial_sequence('sync_op', 'id') <> 'public.sync_op_id_seq' THEN
    RAISE EXCEPTION 'sync_op is not what the partitioning transformation expects: indexes %, constraints %',
      found_indexes, found_constraints;
  END IF;
END $$;`;

const FANOUT: Scenario = {
  key: "devices",
  users: 250,
  subscribers: 4,
  rate: 200,
  title: "1,000 sockets (250 users x 4 devices), 200 pushes/s",
  withTarget: true,
};

interface Side {
  label: string;
  url: string;
  pool: pg.Pool;
  context: BenchContext;
  drop(): Promise<void>;
}

async function openSide(
  context: BenchContext,
  label: string,
  transform: string | undefined,
): Promise<Side> {
  const database = await createSiblingDatabase(context.databaseUrl, label, transform);
  const pool = new pg.Pool({ connectionString: database.url, max: 20 });
  return {
    label,
    url: database.url,
    pool,
    context: { ...context, databaseUrl: database.url, pool },
    async drop() {
      await pool.end();
      await database.drop();
    },
  };
}

/** Partitions a query over sync_op for one user reads, from its plan (pruning at work). */
async function partitionsScanned(side: Side, userId: string): Promise<number> {
  const { rows } = await side.pool.query<{ "QUERY PLAN": string }>(
    `EXPLAIN SELECT max(id) FROM sync_op WHERE user_id = '${userId}'::uuid`,
  );
  const plan = rows.map((row) => row["QUERY PLAN"]).join("\n");
  const scanned = new Set(plan.match(/sync_op_p\d+/g) ?? []);
  return scanned.size === 0 ? 1 : scanned.size;
}

/**
 * The per-user lock on the partitioned database: while a transaction holds a user's lock
 * (USER_LOCK_STATEMENT, as compaction takes it), a push of that user must wait for it.
 * Returns how long the push took with the lock held for `holdMs`.
 */
async function pushWaitsForLock(
  side: Side,
  client: PushClient,
  device: BenchDevice,
  holdMs: number,
): Promise<number> {
  const connection = await side.pool.connect();
  try {
    await connection.query("BEGIN");
    await connection.query(USER_LOCK_STATEMENT, [device.userId]);
    const started = performance.now();
    const push = client.push(device.token, nextOps(device, 1));
    await new Promise((resolve) => setTimeout(resolve, holdMs));
    await connection.query("COMMIT");
    await push;
    return performance.now() - started;
  } finally {
    connection.release();
  }
}

async function pushRounds(
  sides: [Side, Side],
  servers: [ChildHandle, ChildHandle],
  clients: [PushClient, PushClient],
  progress: Progress,
) {
  const devices = await Promise.all(
    sides.map(async (side) =>
      (await seedDevices(side.pool, side.context.key, DEVICES, 1)).map(
        (group) => group[0] as BenchDevice,
      ),
    ),
  );
  const results: { batch: number; flat: number[]; split: number[]; cpu: string }[] = [];
  const figures: Figure[] = [];
  for (const batch of [10, 100]) {
    progress.note(`push, batches of ${batch}: unpartitioned and partitioned in turn`);
    const [flat, split] = await compareInRounds(
      sides.map((side, s) => ({
        label: `${side.label} b${batch}`,
        devices: devices[s] as BenchDevice[],
        batch,
        server: servers[s],
        push: async (device: BenchDevice) => {
          await (clients[s] as PushClient).push(device.token, nextOps(device, batch));
        },
      })),
      progress,
    );
    if (!flat || !split) throw new Error("no result");
    figures.push({
      name: `push throughput, batches of ${batch}, sync_op hash-partitioned (${PARTITIONS}) (tRPC HTTP, ${DEVICES} devices)`,
      unit: "ops/s",
      value: split.opsPerSecond,
      baselineName: "same, unpartitioned sync_op",
      baseline: flat.opsPerSecond,
      better: "higher",
      target: { on: "ratio", kind: "max", value: 1.2 },
    });
    results.push({
      batch,
      flat: flat.rounds,
      split: split.rounds,
      cpu: `${flat.cpuMsPerPush.server.toFixed(2)} / ${split.cpuMsPerPush.server.toFixed(2)} ms`,
    });
  }
  return { figures, results, devices };
}

async function compaction(side: Side, progress: Progress) {
  const [group] = await seedDevices(side.pool, side.context.key, 1, 1);
  const device = group?.[0];
  if (!device) throw new Error("no device seeded");
  await seedLog(side.pool, device.userId, device.deviceId, progress, COMPACTION_OPS);
  await side.pool.query("VACUUM ANALYZE sync_op");
  const prisma = createPrisma(side.url, { max: 4 });
  try {
    progress.note(`${side.label}: compactUser over ${COMPACTION_OPS.toLocaleString("en-US")} ops`);
    const started = performance.now();
    const result = await compactUser(prisma, new AckBuffer(prisma), device.userId, {
      ...DEFAULT_COMPACTION_SETTINGS,
    });
    const elapsedMs = performance.now() - started;
    const { rows } = await side.pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM sync_op WHERE user_id = $1::uuid",
      [device.userId],
    );
    return { ...result, elapsedMs, survivors: Number(rows[0]?.n ?? -1) };
  } finally {
    await prisma.$disconnect();
  }
}

export const partitioned: Section = {
  number: 11,
  title: `sync_op hash-partitioned by user_id (${PARTITIONS} partitions) beside unpartitioned`,
  budgetMs: 720_000,
  optIn: true,
  async run(context, progress) {
    progress.note("two fresh databases from the real migrations; one gets the partitioning");
    const flat = await openSide(context, "flat", undefined);
    let split: Side | undefined;
    try {
      split = await openSide(context, "split", `${CHECK_SQL}\n${PARTITION_SQL}`);
      const sides: [Side, Side] = [flat, split];
      const servers = [
        await startChild("sync-server (unpartitioned)", CHILD_SYNC_SERVER, {
          databaseUrl: flat.url,
          jwks: context.jwks,
        }),
      ] as ChildHandle[];
      const clients: PushClient[] = [];
      try {
        servers.push(
          await startChild("sync-server (partitioned)", CHILD_SYNC_SERVER, {
            databaseUrl: split.url,
            jwks: context.jwks,
          }),
        );
        for (const server of servers) clients.push(createPushClient(server.port, DEVICES));
        const serverPair = servers as [ChildHandle, ChildHandle];
        const clientPair = clients as [PushClient, PushClient];

        const push = await pushRounds(sides, serverPair, clientPair, progress);

        // Every push of the rounds went through chorus_push_ops unchanged: check what it stored.
        const stored = await Promise.all(
          sides.map(async (side, s) => {
            const { rows } = await side.pool.query<{ ops: string; expected: string }>(
              `SELECT count(*) AS ops,
                      (SELECT sum(max_ts) FROM device_lamport WHERE device_id = ANY($1::uuid[])) AS expected
                 FROM sync_op WHERE device_id = ANY($1::uuid[])`,
              [(push.devices[s] as BenchDevice[]).map((device) => device.deviceId)],
            );
            return rows[0];
          }),
        );
        const lockDevice = (push.devices[1] as BenchDevice[])[0] as BenchDevice;
        const lockHeldMs = 1_000;
        const lockWaitMs = await pushWaitsForLock(split, clientPair[1], lockDevice, lockHeldMs);
        const pruned = await partitionsScanned(split, lockDevice.userId);
        // What "works unchanged" means here; a section that finds otherwise fails loudly.
        if (lockWaitMs < lockHeldMs) {
          throw new Error(
            `a push on the partitioned table took ${lockWaitMs.toFixed(0)} ms with its user's lock held for ${lockHeldMs} ms: it did not wait for the lock`,
          );
        }
        for (const [s, side] of sides.entries()) {
          if (stored[s]?.ops !== stored[s]?.expected) {
            throw new Error(
              `${side.label}: ${stored[s]?.ops} ops stored for stamps summing to ${stored[s]?.expected}`,
            );
          }
        }

        // Fan-out latency, ABBA: unpartitioned, partitioned, partitioned, unpartitioned.
        for (const server of servers) await server.stop();
        const fanout: Record<string, { p50: number[]; p99: number[]; cpu: number[] }> = {
          [flat.label]: { p50: [], p99: [], cpu: [] },
          [split.label]: { p50: [], p99: [], cpu: [] },
        };
        for (const side of [flat, split, split, flat]) {
          progress.note(`fan-out latency on the ${side.label} database`);
          const run = await measureSync(side.context, FANOUT, progress);
          const into = fanout[side.label] as { p50: number[]; p99: number[]; cpu: number[] };
          into.p50.push(run.commit.p50);
          into.p99.push(run.commit.p99);
          into.cpu.push((run.cpu.server * run.cpu.result * 1000) / run.commit.count);
        }
        const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
        const fanFlat = fanout[flat.label] as { p50: number[]; p99: number[]; cpu: number[] };
        const fanSplit = fanout[split.label] as { p50: number[]; p99: number[]; cpu: number[] };

        // Compaction, in turn.
        const compactFlat = await compaction(flat, progress);
        const compactSplit = await compaction(split, progress);
        if (compactFlat.survivors !== compactSplit.survivors) {
          throw new Error(
            `compaction left ${compactFlat.survivors} ops unpartitioned and ${compactSplit.survivors} partitioned`,
          );
        }

        const figures: Figure[] = [
          ...push.figures,
          {
            name: `commit-to-delivery p50, ${FANOUT.title}, partitioned (mean of 2 runs, ABBA)`,
            unit: "ms",
            value: mean(fanSplit.p50),
            baselineName: "same, unpartitioned",
            baseline: mean(fanFlat.p50),
            better: "lower",
            target: { on: "ratio", kind: "max", value: 1.2 },
          },
          {
            name: `commit-to-delivery p99, ${FANOUT.title}, partitioned (mean of 2 runs, ABBA)`,
            unit: "ms",
            value: mean(fanSplit.p99),
            baselineName: "same, unpartitioned",
            baseline: mean(fanFlat.p99),
            better: "lower",
            target: { on: "ratio", kind: "max", value: 1.2 },
          },
          {
            name: `compaction, ${COMPACTION_OPS.toLocaleString("en-US")} ops of one user, partitioned`,
            unit: "rows/s",
            value: ratePerSecond(compactSplit.opsDeleted, compactSplit.elapsedMs),
            baselineName: "same, unpartitioned",
            baseline: ratePerSecond(compactFlat.opsDeleted, compactFlat.elapsedMs),
            better: "higher",
            target: { on: "ratio", kind: "max", value: 1.2 },
          },
        ];
        const fmt = (values: number[]) => values.map((v) => v.toFixed(2)).join(", ");
        return {
          figures,
          notes: [
            `Two fresh databases on the run's Postgres, both from the real migrations (prisma/migrations); the second then gets the transformation below, run on the empty table (it first checks sync_op has exactly the indexes ${EXPECTED_INDEXES.join(", ")} and constraints ${EXPECTED_CONSTRAINTS.join(", ")}, and fails if a later migration changed them): sync_op is re-created with LIKE (columns, types, NOT NULLs, defaults: the id keeps its BIGSERIAL sequence, handed over to the new table) as \`PARTITION BY HASH (user_id)\` with ${PARTITIONS} partitions (MODULUS ${PARTITIONS}); the primary key becomes (user_id, id) (a partitioned table's unique keys must contain the partition key) and serves (user_id, id) lookups, so sync_op_user_id_id_idx is not re-created; the unique keys (user_id, operation_id) and (user_id, device_id, lamport_ts) and both foreign keys are re-created as they were. Nothing else changes: chorus_push_ops, the lock statement and compaction's statements run as written.`,
            `Push statement unchanged: every push of the rounds was answered ok by chorus_push_ops on both (ops stored for the pushing devices: unpartitioned ${stored[0]?.ops}, partitioned ${stored[1]?.ops}; the sum of their device_lamport marks ${stored[0]?.expected} and ${stored[1]?.expected}: one stored op per stamp). A user's op-log query (\`max(id) WHERE user_id = …\`, the push's first read) is planned over ${pruned} of ${PARTITIONS} partitions (pruned at plan time).`,
            `Per-user lock unchanged: on the partitioned database, with the user's lock held by another transaction (USER_LOCK_STATEMENT, as compaction takes it) for ${lockHeldMs} ms, that user's push took ${lockWaitMs.toFixed(0)} ms: it waited for the lock, as on the unpartitioned table (the advisory lock names the user, not a table).`,
            `Push: the real sync server in its own process on each database (both started, measured one at a time), ${DEVICES} devices of ${DEVICES} users each, tRPC HTTP closed loop; ${WARMUP_MS / 1000} s warm-up each, then ${ROUNDS} rounds of ${ROUND_MS / 1000} s interleaved, median round. Rounds (ops/s) unpartitioned / partitioned: ${push.results.map((r) => `batches of ${r.batch}: ${r.flat.map(Math.round).join(", ")} / ${r.split.map(Math.round).join(", ")}, server CPU per push ${r.cpu}`).join("; ")}. Target: the partitioned push within 1.2x of the unpartitioned one.`,
            `Fan-out: section 2's target shape (${FANOUT.title}) on a fresh server per run, four runs in the order unpartitioned, partitioned, partitioned, unpartitioned (drift cancels); p50 ms unpartitioned ${fmt(fanFlat.p50)}, partitioned ${fmt(fanSplit.p50)}; p99 ${fmt(fanFlat.p99)} / ${fmt(fanSplit.p99)}; server CPU per delivery µs ${fmt(fanFlat.cpu)} / ${fmt(fanSplit.cpu)}.`,
            `Compaction unchanged: section 4's log (${COMPACTION_OPS.toLocaleString("en-US")} ops of one user over 1,000 registers) in each database, compactUser with the default settings, unpartitioned first: ${compactFlat.opsDeleted.toLocaleString("en-US")} rows deleted in ${(compactFlat.elapsedMs / 1000).toFixed(2)} s (${compactFlat.transactions} transactions, ${compactFlat.survivors.toLocaleString("en-US")} ops left) and ${compactSplit.opsDeleted.toLocaleString("en-US")} in ${(compactSplit.elapsedMs / 1000).toFixed(2)} s (${compactSplit.transactions} transactions, ${compactSplit.survivors.toLocaleString("en-US")} ops left) partitioned: the same survivors.`,
          ],
        };
      } finally {
        for (const client of clients) client.close();
        for (const server of servers) await server.stop();
      }
    } finally {
      await split?.drop();
      await flat.drop();
    }
  },
};
