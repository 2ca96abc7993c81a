import type { PrismaClient } from "@chorus/db";
import { summarizeValue, toWireInt, type ValueSummary } from "@chorus/protocol";
import { z } from "zod";

export const RecentOpsInput = z.object({
  userId: z.uuid(),
  limit: z.int().min(1).max(100).default(20),
});

/** Longest plaintext preview, in characters of the value's JSON. */
export const PREVIEW_CHARS = 80;

export interface RecentOp {
  id: number;
  deviceId: string;
  lamportTs: number;
  entity: string;
  entityId: string;
  field: string | null;
  op: string;
  createdAt: string;
  /** What the value is, never its content when sealed. */
  value: ValueSummary;
  /** The start of a plaintext value's JSON; null for sealed, partly sealed and null values. */
  preview: string | null;
}

/**
 * A user's newest ops for the console. A sealed value is shown as what it is — sealed, its
 * envelope version, key epoch and size — never as its ciphertext, which would read as garbage.
 */
export async function recentOps(
  prisma: PrismaClient,
  input: z.infer<typeof RecentOpsInput>,
): Promise<RecentOp[]> {
  const rows = await prisma.syncOp.findMany({
    where: { userId: input.userId },
    orderBy: { id: "desc" },
    take: input.limit,
  });
  return rows.map((row) => {
    const value = summarizeValue(row.value ?? null);
    const json = value.kind === "plain" ? JSON.stringify(row.value) : null;
    return {
      id: toWireInt(row.id),
      deviceId: row.deviceId,
      lamportTs: toWireInt(row.lamportTs),
      entity: row.entity,
      entityId: row.entityId,
      field: row.field,
      op: row.op,
      createdAt: row.createdAt.toISOString(),
      value,
      preview:
        json === null
          ? null
          : json.length > PREVIEW_CHARS
            ? `${json.slice(0, PREVIEW_CHARS)}…`
            : json,
    };
  });
}
