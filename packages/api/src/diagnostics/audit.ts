import type { Prisma, PrismaClient } from "@chorus/db";
import { toWireInt } from "@chorus/protocol";

export type AuditAction = "compaction_run" | "device_revoked";

export interface AuditEntry {
  actorId: string;
  action: AuditAction;
  targetUserId: string | null;
  targetDeviceId: string | null;
  details: Prisma.InputJsonValue;
}

/** Records one administrator action; the actor's email is read at the time (it may change). */
export async function recordAudit(prisma: PrismaClient, entry: AuditEntry): Promise<void> {
  await prisma.$executeRaw`
    INSERT INTO admin_audit (actor_id, actor_email, action, target_user_id, target_device_id, details)
    VALUES (${entry.actorId}::uuid, (SELECT email FROM users WHERE id = ${entry.actorId}::uuid),
            ${entry.action}, ${entry.targetUserId}::uuid, ${entry.targetDeviceId}::uuid,
            ${JSON.stringify(entry.details)}::jsonb)`;
}

/** The newest administrator actions first. */
export async function readAudit(prisma: PrismaClient, limit: number) {
  const rows = await prisma.$queryRaw<
    {
      id: bigint;
      at: Date;
      actor_id: string;
      actor_email: string | null;
      action: AuditAction;
      target_user_id: string | null;
      target_device_id: string | null;
      target_email: string | null;
      target_device_name: string | null;
      details: unknown;
    }[]
  >`
    SELECT a.id, a.at, a.actor_id, a.actor_email, a.action, a.target_user_id, a.target_device_id,
           u.email AS target_email, d.name AS target_device_name, a.details
      FROM admin_audit a
      LEFT JOIN users u ON u.id = a.target_user_id
      LEFT JOIN devices d ON d.id = a.target_device_id
     ORDER BY a.id DESC
     LIMIT ${limit}`;
  return rows.map((row) => ({
    id: String(toWireInt(row.id)),
    at: row.at.toISOString(),
    actorId: row.actor_id,
    actorEmail: row.actor_email,
    action: row.action,
    targetUserId: row.target_user_id,
    targetEmail: row.target_email,
    targetDeviceId: row.target_device_id,
    targetDeviceName: row.target_device_name,
    details: row.details as Record<string, unknown>,
  }));
}
