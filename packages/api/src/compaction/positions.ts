import type { Prisma } from "@chorus/db";
import { toWireInt } from "@chorus/protocol";
import type { BufferedAck } from "../sync/ack-buffer.js";
import { newestOpId } from "../sync/ops-store.js";

/** Where each of a user's devices stands, as compaction and the console see it. */
export interface DevicePosition {
  deviceId: string;
  name: string;
  /** Highest ACKed op id: the stored cursor or a newer buffered ACK; 0 without either. */
  cursor: number;
  /** When the device last ACKed (or was bound, when it never did). */
  lastSeenAt: Date;
  revoked: boolean;
  /** Not seen within the stale window: it no longer holds compaction back. */
  stale: boolean;
}

export interface Positions {
  devices: DevicePosition[];
  /** MIN over the cursors of the devices that count; compaction may not pass it. */
  min: number;
  newestId: number;
}

interface PositionRow {
  id: string;
  name: string;
  bound_at: Date;
  revoked_at: Date | null;
  last_seen_id: bigint | null;
  last_seen_at: Date | null;
}

/**
 * MIN over the user's live devices: revoked devices never come back and stale ones (not seen
 * within the window) will resync, so neither holds compaction back. A device without a
 * cursor counts as 0 until it turns stale. Buffered ACKs count: a device that ACKed a second
 * ago is fresh even if its stored row is months old.
 */
export async function readPositions(
  db: Prisma.TransactionClient,
  userId: string,
  options: { now: Date; staleWindowMs: number; buffered: BufferedAck[] },
): Promise<Positions> {
  const rows = await db.$queryRaw<PositionRow[]>`
    SELECT d.id, d.name, d.bound_at, d.revoked_at, c.last_seen_id, c.last_seen_at
      FROM devices d
      LEFT JOIN device_sync_cursor c ON c.device_id = d.id
     WHERE d.user_id = ${userId}::uuid
     ORDER BY d.bound_at`;
  const newestId = await newestOpId(db, userId);
  const buffered = new Map(options.buffered.map((ack) => [ack.deviceId, ack]));
  const staleBefore = options.now.getTime() - options.staleWindowMs;

  const devices = rows.map((row): DevicePosition => {
    const ack = buffered.get(row.id);
    const storedCursor = row.last_seen_id === null ? 0 : toWireInt(row.last_seen_id);
    const seen = [row.last_seen_at?.getTime() ?? row.bound_at.getTime(), ack?.at.getTime() ?? 0];
    const lastSeenAt = new Date(Math.max(...seen));
    return {
      deviceId: row.id,
      name: row.name,
      cursor: Math.max(storedCursor, ack?.lastSeenId ?? 0),
      lastSeenAt,
      revoked: row.revoked_at !== null,
      stale: lastSeenAt.getTime() < staleBefore,
    };
  });
  const holding = devices.filter((device) => !device.revoked && !device.stale);
  // With no device holding it back, everything but the newest op may be compacted.
  const min = holding.length > 0 ? Math.min(...holding.map((d) => d.cursor)) : newestId;
  return { devices, min, newestId };
}
