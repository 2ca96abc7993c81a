import type { Prisma, PrismaClient } from "@chorus/db";
import { toWireInt } from "@chorus/protocol";
import type { CompactionSettings } from "../compaction/compact-user.js";
import { readPositions } from "../compaction/positions.js";
import { countSuperseded } from "../compaction/superseded.js";
import type { BufferedAck } from "../sync/ack-buffer.js";
import { compactedUpTo } from "../sync/ops-store.js";

/** A device a compaction run would push below the watermark, and what its resync costs. */
export interface ResyncForecast {
  userId: string;
  email: string;
  deviceId: string;
  name: string;
  cursor: number;
  /** Where the run would raise the user's watermark. */
  target: number;
  stale: boolean;
  /** What its full resync downloads: every op that survives the run. */
  resyncOps: number;
  resyncBytes: number;
}

export interface WhatIf {
  devices: ResyncForecast[];
  usersChecked: number;
  /** More users than `maxUsers` hold devices: the list covers the first ones (by email). */
  truncated: boolean;
}

/** Every op of the user and the bytes they take, as compaction counts bytes. */
async function storedTotals(
  db: Prisma.TransactionClient,
  userId: string,
): Promise<{ ops: number; bytes: number }> {
  const [row] = await db.$queryRaw<{ ops: bigint; bytes: bigint | null }[]>`
    SELECT count(*) AS ops, sum(pg_column_size(s.*))::bigint AS bytes
      FROM sync_op s WHERE s.user_id = ${userId}::uuid`;
  return { ops: toWireInt(row?.ops ?? 0n), bytes: toWireInt(row?.bytes ?? 0n) };
}

/**
 * Compaction's what-if: for a run at `at` (now, or the next nightly run), which devices would
 * fall below their user's new watermark and be forced to resync, and how many ops and bytes
 * each would download. The same rule as the run itself (readPositions' MIN over the devices
 * that are neither revoked nor stale at that time); it writes nothing.
 */
export async function compactionWhatIf(
  deps: { prisma: PrismaClient; buffered: BufferedAck[]; settings: CompactionSettings },
  options: { userId?: string; at?: Date; maxUsers?: number } = {},
): Promise<WhatIf> {
  const at = options.at ?? deps.settings.now();
  const maxUsers = options.maxUsers ?? 500;
  const users = await deps.prisma.$queryRaw<{ id: string; email: string }[]>`
    SELECT u.id, u.email FROM users u
     WHERE EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id)
       AND (${options.userId ?? null}::uuid IS NULL OR u.id = ${options.userId ?? null}::uuid)
     ORDER BY lower(u.email), u.id
     LIMIT ${maxUsers + 1}`;
  const devices: ResyncForecast[] = [];
  for (const user of users.slice(0, maxUsers)) {
    const forecasts = await deps.prisma.$transaction(async (tx) => {
      const positions = await readPositions(tx, user.id, {
        now: at,
        staleWindowMs: deps.settings.staleWindowMs,
        buffered: deps.buffered.filter((ack) => ack.userId === user.id),
      });
      const watermark = await compactedUpTo(tx, user.id);
      const target = Math.max(watermark, positions.min);
      // Only devices this run pushes below: one already under the watermark resyncs anyway.
      const pushed = positions.devices.filter(
        (d) => !d.revoked && d.cursor < target && d.cursor >= watermark && d.cursor > 0,
      );
      if (pushed.length === 0) return [];
      const deleted =
        target > watermark ? await countSuperseded(tx, user.id, target) : { ops: 0, bytes: 0 };
      const total = await storedTotals(tx, user.id);
      return pushed.map(
        (d): ResyncForecast => ({
          userId: user.id,
          email: user.email,
          deviceId: d.deviceId,
          name: d.name,
          cursor: d.cursor,
          target,
          stale: d.stale,
          resyncOps: Math.max(0, total.ops - deleted.ops),
          resyncBytes: Math.max(0, total.bytes - deleted.bytes),
        }),
      );
    });
    devices.push(...forecasts);
  }
  return {
    devices,
    usersChecked: Math.min(users.length, maxUsers),
    truncated: users.length > maxUsers,
  };
}
