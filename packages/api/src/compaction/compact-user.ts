import { type Prisma, type PrismaClient, USER_LOCK_EXPRESSION } from "@chorus/db";
import { toWireInt } from "@chorus/protocol";
import type { AckBuffer, BufferedAck } from "../sync/ack-buffer.js";
import { compactedUpTo } from "../sync/ops-store.js";
import {
  type DevicePosition,
  type PositionRow,
  type Positions,
  positionsFrom,
  readPositions,
} from "./positions.js";
import { countSuperseded, deleteSupersededAndRaise } from "./superseded.js";

export const DAY_MS = 24 * 60 * 60 * 1000;

export interface CompactionSettings {
  /** Devices not seen for longer no longer hold compaction back (default 90 days). */
  staleWindowMs: number;
  /** Ops of one user compacted per transaction; bounds each transaction's work. */
  batchSize: number;
  now: () => Date;
}

export const DEFAULT_COMPACTION_SETTINGS: CompactionSettings = {
  staleWindowMs: 90 * DAY_MS,
  batchSize: 50_000,
  now: () => new Date(),
};

export interface UserCompaction {
  userId: string;
  watermarkBefore: number;
  watermarkAfter: number;
  opsDeleted: number;
  bytesFreed: number;
  transactions: number;
}

/**
 * Compacts one user, in transactions of at most `batchSize` ops each. Every transaction, under
 * the user's push lock: writes the user's buffered ACKs, computes MIN, deletes the ops below
 * its target that the LWW rule supersedes and raises compacted_up_to to that target — all of
 * it commits together or not at all, so a crash at any moment leaves the watermark and the
 * table agreeing. Each target is recomputed over everything below it, so the result equals
 * one big transaction's.
 *
 * A transaction is three statements between BEGIN and COMMIT (ADR 0046): its settings and the
 * lock; the devices' positions with the watermark and the batch's boundary; the deletion with
 * the watermark's raise (plus the ACK flush when ACKs are buffered).
 */
export async function compactUser(
  prisma: PrismaClient,
  acks: AckBuffer,
  userId: string,
  settings: CompactionSettings,
): Promise<UserCompaction> {
  const result: UserCompaction = {
    userId,
    watermarkBefore: 0,
    watermarkAfter: 0,
    opsDeleted: 0,
    bytesFreed: 0,
    transactions: 0,
  };
  for (;;) {
    const step = await compactStep(prisma, acks, userId, settings);
    if (result.transactions === 0) result.watermarkBefore = step.watermarkBefore;
    result.transactions++;
    result.opsDeleted += step.opsDeleted;
    result.bytesFreed += step.bytesFreed;
    result.watermarkAfter = step.watermark;
    if (step.done) return result;
  }
}

interface Step {
  /** The watermark the transaction found. */
  watermarkBefore: number;
  opsDeleted: number;
  bytesFreed: number;
  watermark: number;
  done: boolean;
}

async function compactStep(
  prisma: PrismaClient,
  acks: AckBuffer,
  userId: string,
  settings: CompactionSettings,
): Promise<Step> {
  const buffered = acks.peek(userId);
  try {
    return await prisma.$transaction(
      async (tx) => {
        await tuneAndLock(tx, userId);
        await acks.flush({ userId, db: tx });
        const { positions, watermark, boundary } = await positionsAndBatch(
          tx,
          userId,
          settings,
          buffered,
        );
        if (positions.min <= watermark) {
          return {
            watermarkBefore: watermark,
            opsDeleted: 0,
            bytesFreed: 0,
            watermark,
            done: true,
          };
        }
        const target = boundary === null ? positions.min : Math.min(positions.min, boundary);
        const deleted = await deleteSupersededAndRaise(tx, userId, target);
        return {
          watermarkBefore: watermark,
          opsDeleted: deleted.ops,
          bytesFreed: deleted.bytes,
          watermark: target,
          done: target >= positions.min,
        };
      },
      { maxWait: 10_000, timeout: 300_000 },
    );
  } catch (error) {
    // The flush was rolled back with everything else: keep those ACKs for the next flush.
    for (const ack of buffered) acks.record(ack.userId, ack.deviceId, ack.lastSeenId);
    throw error;
  }
}

/**
 * Settings for this transaction only. The survivors statement is planned from estimates that
 * are far off, so:
 * - no JIT: when the estimates were too high (jsonb_object_keys counts as 100 rows per op),
 *   PostgreSQL JIT-compiled the statement, 2 s of compilation for 1 s of work on a batch of
 *   50,000 ops;
 * - no nested loops: the candidates are fetched by an id list the planner cannot see into
 *   (it expects one row), so it would join the candidates, the field winners and the
 *   tombstones in nested loops, quadratic for a user with many live fields and tombstones.
 *   Every join of the statement can hash; the only nested loop left is the expansion of an
 *   insert's object keys (LATERAL), which has no other plan;
 * - 64 MB of work_mem: its hash aggregates and hash joins over up to one batch, and the sorts
 *   of the winners, fit in memory instead of spilling to disk.
 */
const COMPACTION_SETTINGS_SQL =
  "set_config('jit', 'off', true), set_config('enable_nestloop', 'off', true), set_config('work_mem', '64MB', true)";

async function tuneCompactionTransaction(tx: Prisma.TransactionClient): Promise<void> {
  await tx.$queryRawUnsafe(`SELECT ${COMPACTION_SETTINGS_SQL}`);
}

/** The settings above and the user's push lock (USER_LOCK_EXPRESSION), in one round trip. */
async function tuneAndLock(tx: Prisma.TransactionClient, userId: string): Promise<void> {
  await tx.$executeRawUnsafe(`SELECT ${COMPACTION_SETTINGS_SQL}, ${USER_LOCK_EXPRESSION}`, userId);
}

type PositionsAndBatchRow = Omit<PositionRow, "id" | "name" | "bound_at"> & {
  id: string | null;
  name: string | null;
  bound_at: Date | null;
  watermark: bigint;
  boundary: bigint | null;
  newest: bigint | null;
};

/**
 * In one round trip: where the user's devices stand (as readPositions reads them), the user's
 * watermark, and the id `batchSize` ops above it (null when fewer remain). The user's values
 * come from a one-row subquery, joined to the devices (none: one row of NULL devices).
 */
async function positionsAndBatch(
  tx: Prisma.TransactionClient,
  userId: string,
  settings: CompactionSettings,
  buffered: BufferedAck[],
): Promise<{ positions: Positions; watermark: number; boundary: number | null }> {
  const rows = await tx.$queryRaw<PositionsAndBatchRow[]>`
    SELECT b.watermark, b.boundary, b.newest,
           d.id, d.name, d.bound_at, d.revoked_at, c.last_seen_id, c.last_seen_at
      FROM (SELECT w.watermark,
                   (SELECT id FROM sync_op
                     WHERE user_id = ${userId}::uuid AND id >= w.watermark
                     ORDER BY id OFFSET ${settings.batchSize} LIMIT 1) AS boundary,
                   (SELECT max(id) FROM sync_op WHERE user_id = ${userId}::uuid) AS newest
              FROM (SELECT COALESCE((SELECT compacted_up_to FROM sync_compaction_watermark
                                      WHERE user_id = ${userId}::uuid), 0) AS watermark) w) b
      LEFT JOIN (devices d LEFT JOIN device_sync_cursor c ON c.device_id = d.id)
        ON d.user_id = ${userId}::uuid
     ORDER BY d.bound_at`;
  const first = rows[0];
  const devices: PositionRow[] = [];
  for (const row of rows) {
    if (row.id === null || row.name === null || row.bound_at === null) continue;
    devices.push({ ...row, id: row.id, name: row.name, bound_at: row.bound_at });
  }
  return {
    positions: positionsFrom(devices, first?.newest ? toWireInt(first.newest) : 0, {
      now: settings.now(),
      staleWindowMs: settings.staleWindowMs,
      buffered,
    }),
    watermark: first ? toWireInt(first.watermark) : 0,
    boundary: first?.boundary == null ? null : toWireInt(first.boundary),
  };
}

export interface UserPreview {
  userId: string;
  watermark: number;
  /** Where compaction would raise the watermark. */
  target: number;
  opsToDelete: number;
  bytesToFree: number;
  devices: DevicePosition[];
  /** Devices whose cursor would fall below the new watermark: they will have to resync. */
  devicesNeedingResync: DevicePosition[];
}

/** A dry run for one user: what would be deleted and who would then need a resync. */
export async function previewUser(
  prisma: PrismaClient,
  acks: AckBuffer,
  userId: string,
  settings: CompactionSettings,
): Promise<UserPreview> {
  return await prisma.$transaction(async (tx) => {
    await tuneCompactionTransaction(tx);
    const positions = await readPositions(tx, userId, {
      now: settings.now(),
      staleWindowMs: settings.staleWindowMs,
      buffered: acks.peek(userId),
    });
    const watermark = await compactedUpTo(tx, userId);
    const target = Math.max(watermark, positions.min);
    const superseded =
      target > watermark ? await countSuperseded(tx, userId, target) : { ops: 0, bytes: 0 };
    return {
      userId,
      watermark,
      target,
      opsToDelete: superseded.ops,
      bytesToFree: superseded.bytes,
      devices: positions.devices,
      devicesNeedingResync: positions.devices.filter((d) => !d.revoked && d.cursor < target),
    };
  });
}
