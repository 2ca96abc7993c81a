import type { Prisma, PrismaClient } from "@chorus/db";
import { toWireInt } from "@chorus/protocol";
import type { AckBuffer } from "../sync/ack-buffer.js";
import { compactedUpTo, lockUser } from "../sync/ops-store.js";
import { type DevicePosition, readPositions } from "./positions.js";
import { countSuperseded, deleteSuperseded } from "./superseded.js";

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
 */
export async function compactUser(
  prisma: PrismaClient,
  acks: AckBuffer,
  userId: string,
  settings: CompactionSettings,
): Promise<UserCompaction> {
  const result: UserCompaction = {
    userId,
    watermarkBefore: await compactedUpTo(prisma, userId),
    watermarkAfter: 0,
    opsDeleted: 0,
    bytesFreed: 0,
    transactions: 0,
  };
  result.watermarkAfter = result.watermarkBefore;
  for (;;) {
    const step = await compactStep(prisma, acks, userId, settings);
    result.transactions++;
    result.opsDeleted += step.opsDeleted;
    result.bytesFreed += step.bytesFreed;
    result.watermarkAfter = step.watermark;
    if (step.done) return result;
  }
}

interface Step {
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
        await tuneCompactionTransaction(tx);
        await lockUser(tx, userId);
        await acks.flush({ userId, db: tx });
        const positions = await readPositions(tx, userId, {
          now: settings.now(),
          staleWindowMs: settings.staleWindowMs,
          buffered,
        });
        const { watermark, boundary } = await watermarkAndBoundary(tx, userId, settings.batchSize);
        if (positions.min <= watermark) {
          return { opsDeleted: 0, bytesFreed: 0, watermark, done: true };
        }
        const target = boundary === null ? positions.min : Math.min(positions.min, boundary);
        const deleted = await deleteSuperseded(tx, userId, target);
        await tx.$executeRaw`
          INSERT INTO sync_compaction_watermark (user_id, compacted_up_to, updated_at)
          VALUES (${userId}::uuid, ${BigInt(target)}, now())
          ON CONFLICT (user_id) DO UPDATE
            SET compacted_up_to = GREATEST(sync_compaction_watermark.compacted_up_to, EXCLUDED.compacted_up_to),
                updated_at = now()`;
        return {
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
 * Settings for this transaction only, in one round trip. The survivors statement is planned
 * from estimates that are far off, so:
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
async function tuneCompactionTransaction(tx: Prisma.TransactionClient): Promise<void> {
  await tx.$queryRawUnsafe(
    "SELECT set_config('jit', 'off', true), set_config('enable_nestloop', 'off', true), set_config('work_mem', '64MB', true)",
  );
}

/**
 * The user's watermark and the id `batchSize` ops above it (null when fewer remain), in one
 * round trip.
 */
async function watermarkAndBoundary(
  tx: Prisma.TransactionClient,
  userId: string,
  batchSize: number,
): Promise<{ watermark: number; boundary: number | null }> {
  const rows = await tx.$queryRaw<{ watermark: bigint; boundary: bigint | null }[]>`
    SELECT w.watermark,
           (SELECT id FROM sync_op
             WHERE user_id = ${userId}::uuid AND id >= w.watermark
             ORDER BY id OFFSET ${batchSize} LIMIT 1) AS boundary
      FROM (SELECT COALESCE((SELECT compacted_up_to FROM sync_compaction_watermark
                              WHERE user_id = ${userId}::uuid), 0) AS watermark) w`;
  const row = rows[0];
  return {
    watermark: row ? toWireInt(row.watermark) : 0,
    boundary: row?.boundary == null ? null : toWireInt(row.boundary),
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
