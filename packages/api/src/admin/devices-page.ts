import { Prisma } from "@chorus/db";
import { toWireInt, wireString } from "@chorus/protocol";
import { z } from "zod";
import type { BufferedAck } from "../sync/ack-buffer.js";
import { containsPattern } from "./search.js";

export const DeviceSort = z.enum(["lastSeen", "boundAt", "name", "email", "cursor"]);
export const DeviceStatusFilter = z.enum(["all", "online", "active", "stale", "revoked"]);

export const DevicesPageInput = z.object({
  page: z.int().min(0).default(0),
  pageSize: z.int().min(1).max(200).default(50),
  sort: DeviceSort.default("lastSeen"),
  direction: z.enum(["asc", "desc"]).default("desc"),
  search: wireString(z.string().trim().max(200), "search").default(""),
  status: DeviceStatusFilter.default("all"),
  userId: z.uuid().optional(),
});
export type DevicesPageInput = z.infer<typeof DevicesPageInput>;

const ORDER: Record<z.infer<typeof DeviceSort>, string> = {
  lastSeen: "seen_at",
  boundAt: "bound_at",
  name: "lower(name)",
  email: "lower(email)",
  cursor: "cursor",
};

interface Row {
  id: string;
  user_id: string;
  email: string;
  name: string;
  platform: string;
  app_version: string;
  bound_at: Date;
  revoked_at: Date | null;
  stored_cursor: bigint | null;
  buffered_cursor: bigint | null;
  cursor: bigint;
  seen_at: Date;
  total: bigint;
}

export interface DeviceRow {
  id: string;
  userId: string;
  email: string;
  name: string;
  platform: string;
  appVersion: string;
  online: boolean;
  boundAt: string;
  revokedAt: string | null;
  lastSeenAt: string;
  /** As written in device_sync_cursor. */
  storedCursor: number | null;
  /** As held in this replica's ACK buffer, when newer than the table. */
  bufferedCursor: number | null;
  /** Ops of the user the device has not ACKed yet. */
  lagOps: number;
  /** Age of the oldest op the device has not ACKed (0 when caught up). */
  lagMs: number;
  /** Time left before the device turns stale (negative: stale for that long). */
  staleInMs: number;
  stale: boolean;
}

/**
 * One page of the devices table, paged, sorted and filtered in SQL so it stays fast with tens
 * of thousands of devices; lag is counted for the page's rows only.
 */
export async function devicesPage(
  db: Prisma.TransactionClient,
  input: DevicesPageInput,
  live: { online: ReadonlySet<string>; buffered: BufferedAck[]; staleWindowMs: number; now: Date },
): Promise<{ rows: DeviceRow[]; total: number }> {
  const staleBefore = new Date(live.now.getTime() - live.staleWindowMs);
  const online = [...live.online];
  const search = containsPattern(input.search);
  const status = {
    all: Prisma.sql`true`,
    online: Prisma.sql`id = ANY(${online}::uuid[])`,
    active: Prisma.sql`revoked_at IS NULL AND seen_at >= ${staleBefore}`,
    stale: Prisma.sql`revoked_at IS NULL AND seen_at < ${staleBefore}`,
    revoked: Prisma.sql`revoked_at IS NOT NULL`,
  }[input.status];
  const order = Prisma.raw(
    `${ORDER[input.sort]} ${input.direction === "asc" ? "ASC" : "DESC"}, id`,
  );
  const rows = await db.$queryRaw<Row[]>`
    WITH buffered AS (
      SELECT * FROM unnest(${live.buffered.map((b) => b.deviceId)}::uuid[],
                           ${live.buffered.map((b) => BigInt(b.lastSeenId))}::bigint[],
                           ${live.buffered.map((b) => b.at)}::timestamptz[]) AS b(device_id, cursor, at)
    ),
    base AS (
      SELECT d.id, d.user_id, u.email, d.name, d.platform, d.app_version, d.bound_at, d.revoked_at,
             c.last_seen_id AS stored_cursor,
             CASE WHEN b.cursor > COALESCE(c.last_seen_id, 0) THEN b.cursor END AS buffered_cursor,
             GREATEST(COALESCE(c.last_seen_id, 0), COALESCE(b.cursor, 0)) AS cursor,
             -- GREATEST skips NULLs: a buffered ACK counts when there is one
             GREATEST(COALESCE(c.last_seen_at, d.bound_at), b.at) AS seen_at
        FROM devices d
        JOIN users u ON u.id = d.user_id
        LEFT JOIN device_sync_cursor c ON c.device_id = d.id
        LEFT JOIN buffered b ON b.device_id = d.id
       WHERE (${search}::text IS NULL OR u.email ILIKE ${search} OR d.name ILIKE ${search})
         AND (${input.userId ?? null}::uuid IS NULL OR d.user_id = ${input.userId ?? null}::uuid)
    )
    SELECT *, count(*) OVER () AS total FROM base
     WHERE ${status}
     ORDER BY ${order}
     LIMIT ${input.pageSize} OFFSET ${input.page * input.pageSize}`;

  const lags = await lagsFor(db, rows);
  return {
    total: rows[0] ? toWireInt(rows[0].total) : 0,
    rows: rows.map((row) => {
      const lag = lags.get(row.id);
      const staleInMs = row.seen_at.getTime() + live.staleWindowMs - live.now.getTime();
      return {
        id: row.id,
        userId: row.user_id,
        email: row.email,
        name: row.name,
        platform: row.platform,
        appVersion: row.app_version,
        online: live.online.has(row.id),
        boundAt: row.bound_at.toISOString(),
        revokedAt: row.revoked_at?.toISOString() ?? null,
        lastSeenAt: row.seen_at.toISOString(),
        storedCursor: row.stored_cursor === null ? null : toWireInt(row.stored_cursor),
        bufferedCursor: row.buffered_cursor === null ? null : toWireInt(row.buffered_cursor),
        lagOps: lag?.ops ?? 0,
        lagMs: lag?.oldest ? Math.max(0, live.now.getTime() - lag.oldest.getTime()) : 0,
        staleInMs,
        stale: row.revoked_at === null && staleInMs < 0,
      };
    }),
  };
}

/** How far behind each listed device is: unseen ops and the age of the oldest. */
async function lagsFor(
  db: Prisma.TransactionClient,
  rows: Row[],
): Promise<Map<string, { ops: number; oldest: Date | null }>> {
  if (rows.length === 0) return new Map();
  const lags = await db.$queryRaw<{ id: string; ops: bigint; oldest: Date | null }[]>`
    SELECT p.id, l.ops, l.oldest
      FROM unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.user_id)}::uuid[],
                  ${rows.map((r) => r.cursor)}::bigint[]) AS p(id, user_id, cursor)
      CROSS JOIN LATERAL (
        SELECT count(*) AS ops, min(created_at) AS oldest
          FROM sync_op o WHERE o.user_id = p.user_id AND o.id > p.cursor) l`;
  return new Map(lags.map((l) => [l.id, { ops: Number(l.ops), oldest: l.oldest }]));
}
