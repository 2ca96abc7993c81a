import type { Prisma } from "@chorus/db";
import { toWireInt, wireString } from "@chorus/protocol";
import { z } from "zod";
import { containsPattern } from "./search.js";

export const UsersPageInput = z.object({
  page: z.int().min(0).default(0),
  pageSize: z.int().min(1).max(200).default(50),
  search: wireString(z.string().trim().max(200), "search").default(""),
});
export type UsersPageInput = z.infer<typeof UsersPageInput>;

interface Row {
  id: string;
  email: string;
  role: "user" | "admin";
  created_at: Date;
  devices: bigint;
  ops: bigint;
  compacted_up_to: bigint | null;
  watermark_at: Date | null;
  total: bigint;
}

/** Users with their device count, total ops and compaction watermark, paged in SQL. */
export async function usersPage(db: Prisma.TransactionClient, input: UsersPageInput) {
  const search = containsPattern(input.search);
  const rows = await db.$queryRaw<Row[]>`
    SELECT u.id, u.email, u.role, u.created_at,
           (SELECT count(*) FROM devices d WHERE d.user_id = u.id) AS devices,
           (SELECT count(*) FROM sync_op o WHERE o.user_id = u.id) AS ops,
           w.compacted_up_to, w.updated_at AS watermark_at,
           count(*) OVER () AS total
      FROM users u
      LEFT JOIN sync_compaction_watermark w ON w.user_id = u.id
     WHERE ${search}::text IS NULL OR u.email ILIKE ${search}
     ORDER BY u.created_at DESC, u.id
     LIMIT ${input.pageSize} OFFSET ${input.page * input.pageSize}`;
  return {
    total: rows[0] ? toWireInt(rows[0].total) : 0,
    rows: rows.map((row) => ({
      id: row.id,
      email: row.email,
      role: row.role,
      createdAt: row.created_at.toISOString(),
      devices: Number(row.devices),
      ops: Number(row.ops),
      watermark: row.compacted_up_to === null ? 0 : toWireInt(row.compacted_up_to),
      watermarkUpdatedAt: row.watermark_at?.toISOString() ?? null,
    })),
  };
}
