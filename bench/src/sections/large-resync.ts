import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ResyncAnswer, ResyncChildConfig } from "../child/resync-engine.js";
import { startChild } from "../children.js";
import { type BenchContext, CHILD_RESYNC, CHILD_SYNC_SERVER, type Section } from "../context.js";
import { type BenchDevice, seedDevices } from "../fixtures.js";
import type { Progress } from "../progress.js";
import type { Figure } from "../report.js";
import { ratePerSecond } from "../stats.js";

/** The account: OPS field sets by WRITERS devices over TRACKS tracks (ten writes per track). */
export const OPS = 1_000_000;
const TRACKS = 100_000;
const WRITERS = 4;
const SEED_CHUNK = 100_000;
/** The pages the engine asks for (MAX_PULL_LIMIT): the baseline reads in pages of the same size. */
const PAGE = 1_000;
const MIB = 1024 * 1024;

/**
 * Writes the account's log straight into sync_op as chorus_push_ops would have stored it: one
 * BIGSERIAL id per op in Lamport order, Lamport stamps 1..OPS unique across the user (each
 * device's stamps strictly increasing, as a Lamport clock that observes the others), a fresh
 * operation id per op, the op's device one of the user's WRITERS devices in turn, created_at
 * the insert's now(); then each device's high-water mark in device_lamport, as the push
 * keeps it. Foreign keys are not checked while seeding when the role may skip them
 * (session_replication_role = replica: every row names the seeded user and devices).
 */
async function seedAccount(
  context: BenchContext,
  writers: BenchDevice[],
  progress: Progress,
): Promise<void> {
  const userId = writers[0]?.userId as string;
  const deviceIds = writers.map((device) => device.deviceId);
  // Track ids are made in SQL (a version-4-shaped UUID from a hash of the account's salt and
  // the track's number): subscripting a 100,000-element text[] parameter per row is linear in
  // the index, which made the seed quadratic.
  const salt = randomUUID();
  const client = await context.pool.connect();
  try {
    // Needs a superuser; without one the seed checks the foreign keys, only slower.
    const unchecked = await client.query("SET session_replication_role = replica").then(
      () => true,
      () => false,
    );
    for (let from = 1; from <= OPS; from += SEED_CHUNK) {
      const to = Math.min(OPS, from + SEED_CHUNK - 1);
      await client.query(
        `INSERT INTO sync_op (user_id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value)
         SELECT $1::uuid, ($2::uuid[])[(i % ${WRITERS}) + 1], gen_random_uuid(), i, 'track',
                overlay(overlay(md5($3 || (i % ${TRACKS})) placing '4' from 13) placing '8' from 17)::uuid::text,
                (ARRAY['title', 'artist', 'album', 'duration_ms'])[((i / ${TRACKS}) % 4) + 1],
                'set',
                CASE (i / ${TRACKS}) % 4
                  WHEN 0 THEN to_jsonb('Track ' || (i % ${TRACKS}) || ', take ' || i)
                  WHEN 1 THEN to_jsonb('Artist ' || (i % 997))
                  WHEN 2 THEN to_jsonb('Album ' || (i % 4001))
                  ELSE to_jsonb(120000 + i % 300000)
                END
           FROM generate_series($4::bigint, $5::bigint) AS i
          ORDER BY i`,
        [userId, deviceIds, salt, from, to],
      );
      progress.note(`seeded ${to.toLocaleString("en-US")} of ${OPS.toLocaleString("en-US")} ops`);
    }
    if (unchecked) await client.query("RESET session_replication_role");
    await client.query(
      `INSERT INTO device_lamport (device_id, user_id, max_ts, updated_at)
       SELECT device_id, user_id, max(lamport_ts), now() FROM sync_op
        WHERE user_id = $1::uuid GROUP BY device_id, user_id`,
      [userId],
    );
    await client.query("VACUUM ANALYZE sync_op");
  } finally {
    client.release();
  }
}

/**
 * The baseline: the same rows read with raw `pg` in pages of PAGE by (user_id, id), the
 * columns a pull returns, each row parsed into a JS object by `pg` — what reading the account
 * costs at least, with no server, no JSON on a wire and no device store.
 */
async function rawRead(context: BenchContext, userId: string) {
  const client = await context.pool.connect();
  let rows = 0;
  const started = performance.now();
  try {
    for (let since = 0; ; ) {
      const page = await client.query<{ id: string }>(
        `SELECT id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value, created_at
           FROM sync_op WHERE user_id = $1::uuid AND id > $2 ORDER BY id LIMIT ${PAGE}`,
        [userId, since],
      );
      rows += page.rows.length;
      if (page.rows.length < PAGE) break;
      since = Number(page.rows.at(-1)?.id);
    }
  } finally {
    client.release();
  }
  return { rows, elapsedMs: performance.now() - started };
}

const mib = (bytes: number) => `${(bytes / MIB).toFixed(0)} MiB`;

export const largeResync: Section = {
  number: 10,
  title: "Full resync of a 1,000,000-op account",
  budgetMs: 900_000,
  optIn: true,
  async run(context, progress) {
    const [devices] = await seedDevices(context.pool, context.key, 1, WRITERS + 1);
    if (!devices) throw new Error("no devices seeded");
    const writers = devices.slice(0, WRITERS);
    const fresh = devices[WRITERS] as BenchDevice;
    const seedStarted = performance.now();
    await seedAccount(context, writers, progress);
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    progress.note("baseline: raw pg read of the same rows, pages of 1,000");
    const raw = await rawRead(context, fresh.userId);
    if (raw.rows !== OPS) throw new Error(`the raw read found ${raw.rows} ops, not ${OPS}`);

    const server = await startChild("sync-server", CHILD_SYNC_SERVER, {
      databaseUrl: context.databaseUrl,
      jwks: context.jwks,
    });
    const dataDir = mkdtempSync(join(tmpdir(), "chorus-bench-resync-"));
    let answer: ResyncAnswer;
    try {
      const engine = await startChild("resync engine", CHILD_RESYNC, {
        dataDir,
        profile: "bench-fresh",
        syncUrl: `http://127.0.0.1:${server.port}`,
        token: fresh.token,
        userId: fresh.userId,
        deviceId: fresh.deviceId,
        serverPid: server.pid,
      } satisfies ResyncChildConfig);
      try {
        await engine.request("connected", { timeoutMs: 30_000 });
        progress.note("engine connected; full resync of the account (pull, stage, fold, audit)");
        const stop = progress.every(10_000, () => "resync still running");
        try {
          answer = await engine.request<ResyncAnswer>("resync", {}, 800_000);
        } finally {
          stop();
        }
      } finally {
        await engine.stop();
      }
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
    if (answer.ops !== OPS) throw new Error(`the engine rebuilt ${answer.ops} ops, not ${OPS}`);

    const figures: Figure[] = [
      {
        name: `full resync of a ${OPS.toLocaleString("en-US")}-op account into a fresh profile (engine, pull + fold)`,
        unit: "ops/s",
        value: ratePerSecond(answer.ops, answer.totalMs),
        baselineName: "raw pg read of the same rows, pages of 1,000",
        baseline: ratePerSecond(raw.rows, raw.elapsedMs),
        better: "higher",
        target: { on: "figure", kind: "min", value: 50_000 },
      },
      {
        name: "peak RSS of the engine process during the resync",
        unit: "MiB",
        value: answer.peakAtDone / MIB,
        baselineName: "the same engine process, connected, before the resync",
        baseline: answer.peakBefore / MIB,
        better: "lower",
        target: { on: "figure", kind: "max", value: 300 },
      },
    ];
    return {
      figures,
      notes: [
        `The account: one user, ${OPS.toLocaleString("en-US")} field sets over ${TRACKS.toLocaleString("en-US")} tracks (title, artist, album, duration_ms; each track written ${OPS / TRACKS} times, so the rebuilt library holds ${TRACKS.toLocaleString("en-US")} tracks) by ${WRITERS} devices, written straight into sync_op as the push stores it (one BIGSERIAL id per op, per-user Lamport stamps 1..${OPS.toLocaleString("en-US")}, fresh operation ids, device_lamport high-water marks), by INSERT ... SELECT FROM generate_series in chunks of ${SEED_CHUNK.toLocaleString("en-US")} (foreign keys not checked while seeding): ${seedSeconds.toFixed(0)} s, then VACUUM ANALYZE.`,
        `Figure: a fresh profile of a fifth device of the account, DeviceEngine of @chorus/desktop-sync (Hybrid mode, its own SQLite file) in its own process, bound and connected to the real sync server (its own process), then engine.resync(): the streaming full resync of src/sync/resync.ts — pages of ${PAGE.toLocaleString("en-US")} ops by sync.pull (fullResync) over HTTP, each settled per register as it arrives and staged in SQLite temp tables (ADR 0028), then one transaction that installs each register's winner and writes the app's rows from them. Timed from the call to the \`done\` progress event: ${(answer.totalMs / 1000).toFixed(1)} s, of which pulling, settling and staging ${(answer.pullMs / 1000).toFixed(1)} s (${Math.round(ratePerSecond(answer.ops, answer.pullMs)).toLocaleString("en-US")} ops/s) and installing and writing the rows ${(answer.foldMs / 1000).toFixed(1)} s (${Math.round(ratePerSecond(answer.ops, answer.foldMs)).toLocaleString("en-US")} ops/s). The engine process used ${(answer.cpuMs / 1000).toFixed(1)} s of CPU until \`done\` (${(answer.cpuPullMs / 1000).toFixed(1)} s of it while pulling; ${Math.round(ratePerSecond(answer.ops, answer.cpuMs)).toLocaleString("en-US")} ops per CPU-second: the figure a busy machine moves least); the sync server process ${(answer.serverCpuPullMs / 1000).toFixed(1)} s while pulling (${(answer.serverCpuPullMs / Math.max(1, answer.ops / 1000)).toFixed(1)} ms per 1,000 ops) and ${(answer.serverCpuFoldMs / 1000).toFixed(1)} s while installing (its utime + stime from /proc read by the engine at the phase changes). After it the library held ${answer.tracks.toLocaleString("en-US")} tracks, cursor ${answer.cursor.toLocaleString("en-US")}. The convergence audit the engine runs after every rebuild took ${(answer.auditMs / 1000).toFixed(1)} s more (not in the figure): ${answer.auditOutcome}.`,
        `Peak RSS is the engine process's VmHWM (/proc/self/status) read at the \`done\` event: ${mib(answer.peakAtDone)}; before the resync (engine open, bound, connected) ${mib(answer.peakBefore)}; after the audit ${mib(answer.peakAfter)} (process.resourceUsage().maxRSS ${mib(answer.maxRss)}, RSS then ${mib(answer.rssAfter)}).`,
        `Baseline: the same ${raw.rows.toLocaleString("en-US")} rows read by raw \`pg\` in the bench process, keyset pages of ${PAGE.toLocaleString("en-US")} by (user_id, id), the columns a pull returns, parsed into objects by \`pg\`: ${(raw.elapsedMs / 1000).toFixed(1)} s. No server, no wire JSON, no device store: what reading the account costs at least.`,
      ],
    };
  },
};
