import { AckBuffer, compactUser, DEFAULT_COMPACTION_SETTINGS } from "@chorus/api";
import { createPrisma } from "@chorus/db";
import type pg from "pg";
import type { BenchContext, Section } from "../context.js";
import { seedDevices } from "../fixtures.js";
import { processCpuMs } from "../process-cpu.js";
import type { Progress } from "../progress.js";
import type { Figure } from "../report.js";
import { ratePerSecond } from "../stats.js";

const OPS = 200_000;
const ENTITIES = 100;
const FIELDS = 10;
const SEED_CHUNK = 50_000;

/**
 * One user's log of OPS field sets cycling over ENTITIES x FIELDS registers in Lamport order:
 * each register is written OPS / (ENTITIES x FIELDS) times, so all but the last write of each
 * are superseded. The device has read everything, so compaction may cover the whole log.
 */
export async function seedLog(
  pool: pg.Pool,
  userId: string,
  deviceId: string,
  progress: Progress,
  ops = OPS,
): Promise<void> {
  const entityIds = Array.from(
    { length: ENTITIES },
    (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
  );
  for (let from = 1; from <= ops; from += SEED_CHUNK) {
    await pool.query(
      `INSERT INTO sync_op (user_id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value)
       SELECT $1::uuid, $2::uuid, gen_random_uuid(), i, 'track',
              ($3::text[])[(i % ${ENTITIES}) + 1], 'field_' || ((i / ${ENTITIES}) % ${FIELDS}),
              'set', to_jsonb('value ' || i)
         FROM generate_series($4::bigint, $5::bigint) AS i`,
      [userId, deviceId, entityIds, from, Math.min(ops, from + SEED_CHUNK - 1)],
    );
    progress.note(
      `seeded ${Math.min(ops, from + SEED_CHUNK - 1).toLocaleString("en-US")} ops of a user`,
    );
  }
  await pool.query(
    `INSERT INTO device_sync_cursor (user_id, device_id, last_seen_id, last_seen_at)
     SELECT $1::uuid, $2::uuid, max(id), now() FROM sync_op WHERE user_id = $1::uuid`,
    [userId, deviceId],
  );
}

/** The compaction client's connections, told apart from the bench's own in pg_stat_activity. */
const COMPACTION_APPLICATION = "chorus-bench-compaction";

/**
 * CPU time so far (ms) of each database server process serving a connection named
 * `application`, by pid; empty when Postgres runs elsewhere (its /proc is not this machine's).
 */
async function serverCpuByPid(
  context: BenchContext,
  application: string,
): Promise<Map<number, number>> {
  const { rows } = await context.pool.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1",
    [application],
  );
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    const ms = processCpuMs(pid);
    if (ms !== null) cpu.set(pid, ms);
  }
  return cpu;
}

/** CPU the server processes spent between two readings (a process new since `before`: all of it). */
function cpuBetween(before: Map<number, number>, after: Map<number, number>): number | null {
  if (after.size === 0) return null;
  let spent = 0;
  for (const [pid, ms] of after) spent += ms - (before.get(pid) ?? 0);
  return spent;
}

async function countOps(context: BenchContext, userId: string): Promise<number> {
  const { rows } = await context.pool.query<{ count: string }>(
    "SELECT count(*) AS count FROM sync_op WHERE user_id = $1::uuid",
    [userId],
  );
  return Number(rows[0]?.count ?? 0);
}

/** The baseline: DELETE ... WHERE id IN (...) of `count` of the user's rows, `chunk` per transaction. */
async function rawDelete(context: BenchContext, userId: string, count: number, chunk: number) {
  const { rows } = await context.pool.query<{ id: string }>(
    "SELECT id FROM sync_op WHERE user_id = $1::uuid ORDER BY id LIMIT $2",
    [userId, count],
  );
  const ids = rows.map((row) => row.id);
  const connection = await context.pool.connect();
  let deleted = 0;
  let serverCpuMs: number | null = null;
  let started = performance.now();
  try {
    const { rows: backend } = await connection.query<{ pid: number }>(
      "SELECT pg_backend_pid() AS pid",
    );
    const pid = backend[0]?.pid ?? 0;
    const cpuBefore = processCpuMs(pid);
    started = performance.now();
    for (let start = 0; start < ids.length; start += chunk) {
      await connection.query("BEGIN");
      const result = await connection.query("DELETE FROM sync_op WHERE id = ANY($1::bigint[])", [
        ids.slice(start, start + chunk),
      ]);
      await connection.query("COMMIT");
      deleted += result.rowCount ?? 0;
    }
    const cpuAfter = processCpuMs(pid);
    if (cpuBefore !== null && cpuAfter !== null) serverCpuMs = cpuAfter - cpuBefore;
  } finally {
    connection.release();
  }
  return { deleted, elapsedMs: performance.now() - started, serverCpuMs };
}

function serverCpu(ms: number | null, rows: number): string {
  if (ms === null) return "not measured (Postgres runs on another machine)";
  return `${Math.round(ms).toLocaleString("en-US")} ms, ${rows > 0 ? ((ms * 1000) / rows).toFixed(2) : "-"} µs per row`;
}

export const compaction: Section = {
  number: 4,
  title: "Compaction",
  budgetMs: 150_000,
  async run(context, progress) {
    const [compacted, baseline] = await seedDevices(context.pool, context.key, 2, 1);
    const subject = compacted?.[0];
    const twin = baseline?.[0];
    if (!subject || !twin) throw new Error("no devices seeded");
    await seedLog(context.pool, subject.userId, subject.deviceId, progress);
    await seedLog(context.pool, twin.userId, twin.deviceId, progress);
    await context.pool.query("VACUUM ANALYZE sync_op");

    const settings = { ...DEFAULT_COMPACTION_SETTINGS };
    const compactionUrl = new URL(context.databaseUrl);
    compactionUrl.searchParams.set("application_name", COMPACTION_APPLICATION);
    const prisma = createPrisma(compactionUrl.toString(), { max: 4 });
    // A server compacts on its long-lived client. The client's first query (its engine and
    // its first connection, about 0.3-0.6 s) is not compaction's work, and the baseline's
    // pool is connected before its clock starts too.
    await prisma.$queryRaw`SELECT 1`;
    let result: Awaited<ReturnType<typeof compactUser>>;
    let compactMs: number;
    let compactServerCpuMs: number | null;
    try {
      progress.note(
        `compactUser over ${OPS.toLocaleString("en-US")} ops (batches of ${settings.batchSize.toLocaleString("en-US")})`,
      );
      let remaining = OPS;
      const stop = progress.every(
        2_000,
        () => `compaction: ${remaining.toLocaleString("en-US")} ops of the user left`,
      );
      const poll = setInterval(() => {
        countOps(context, subject.userId).then(
          (count) => {
            remaining = count;
          },
          () => {},
        );
      }, 2_000);
      const cpuBefore = await serverCpuByPid(context, COMPACTION_APPLICATION);
      const started = performance.now();
      try {
        result = await compactUser(prisma, new AckBuffer(prisma), subject.userId, settings);
      } finally {
        compactMs = performance.now() - started;
        clearInterval(poll);
        stop();
      }
      compactServerCpuMs = cpuBetween(
        cpuBefore,
        await serverCpuByPid(context, COMPACTION_APPLICATION),
      );
    } finally {
      await prisma.$disconnect();
    }
    progress.note(
      `compacted: ${result.opsDeleted.toLocaleString("en-US")} ops deleted in ${result.transactions} transactions`,
    );

    await context.pool.query("VACUUM ANALYZE sync_op");
    progress.note(
      `baseline: raw DELETE of ${result.opsDeleted.toLocaleString("en-US")} rows by id`,
    );
    const raw = await rawDelete(context, twin.userId, result.opsDeleted, settings.batchSize);

    const figures: Figure[] = [
      {
        name: `compaction, ${OPS.toLocaleString("en-US")} ops of one user, ${((result.opsDeleted / OPS) * 100).toFixed(1)}% superseded`,
        unit: "rows/s",
        value: ratePerSecond(result.opsDeleted, compactMs),
        baselineName: "raw DELETE by id",
        baseline: ratePerSecond(raw.deleted, raw.elapsedMs),
        better: "higher",
        target: { on: "figure", kind: "min", value: 150_000 },
      },
    ];
    return {
      figures,
      notes: [
        `A user with ${OPS.toLocaleString("en-US")} field sets cycling over ${ENTITIES} entities x ${FIELDS} fields, one device whose cursor is at the newest op; compactUser from @chorus/api with the default settings (batches of ${settings.batchSize.toLocaleString("en-US")} ops per transaction, LWW survivors computed in SQL, watermark raised in the same transaction): ${result.opsDeleted.toLocaleString("en-US")} rows deleted in ${(compactMs / 1000).toFixed(2)} s, ${result.transactions} transactions.`,
        `Baseline: a twin user with the same log; \`DELETE FROM sync_op WHERE id = ANY($1)\` (an IN list as one array parameter) of the same number of rows (${raw.deleted.toLocaleString("en-US")}), ${settings.batchSize.toLocaleString("en-US")} ids per transaction, ids selected beforehand (not timed): ${(raw.elapsedMs / 1000).toFixed(2)} s.`,
        "Both run on a freshly vacuumed table (VACUUM ANALYZE before each), each on a client that has already run a query.",
        `Database CPU (the server processes of each client's connections, user + system time from /proc): compaction ${serverCpu(compactServerCpuMs, result.opsDeleted)}; raw DELETE ${serverCpu(raw.serverCpuMs, raw.deleted)}.`,
      ],
    };
  },
};
