import { AuditDetailInput, AuditInput, ReportInput } from "@chorus/protocol";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import type { Services } from "../context.js";
import { revokeDevice } from "../devices/revoke.js";
import { readAudit, recordAudit } from "../diagnostics/audit.js";
import {
  AuditNotFound,
  auditRequested,
  readAudits,
  requestAudit,
  resolveAuditDetail,
  runConvergenceAudit,
} from "../diagnostics/convergence.js";
import { explainDevice } from "../diagnostics/explain.js";
import { readLagHistory } from "../diagnostics/telemetry.js";
import { readThroughputHistory } from "../diagnostics/throughput.js";
import { compactionWhatIf } from "../diagnostics/what-if.js";
import { adminProcedure, deviceProcedure, userProcedure } from "../trpc.js";

/** What explainDevice needs, read from one replica's services. */
export function explainContext(services: Services) {
  return {
    prisma: services.prisma,
    online: services.bus.onlineDevices(),
    buffered: services.acks.peek(),
    settings: services.compaction.settings,
    nextCompactionAt: services.compaction.nextScheduledAt,
  };
}

/**
 * "Why is this device behind?": what devices report about themselves, and the diagnosis built
 * from it and from what the server knows. Devices report over their socket (a mutation routed
 * over the WebSocket) and with each push (PushInput.telemetry).
 */
export const diagnosticsRouter = {
  /**
   * The calling device's telemetry; answers the clock skew the server measured and whether an
   * administrator asked this device for a convergence audit (older devices ignore the flag).
   */
  report: deviceProcedure.input(ReportInput).mutation(async ({ ctx, input }) => {
    const { skewMs } = ctx.services.diagnostics.record(ctx.device, input.telemetry, "report");
    // Like the telemetry write, the question never fails the report: unanswered, it is "no".
    const requested = await auditRequested(ctx.services.prisma, ctx.device.id).catch(() => false);
    return { skewMs, auditRequested: requested };
  }),

  /**
   * A convergence audit: the device's digests of its synced state at its cursor, compared with
   * the server's of the log at the same position, and recorded.
   */
  audit: deviceProcedure
    .input(AuditInput)
    .mutation(({ ctx, input }) => runConvergenceAudit(ctx.services.prisma, ctx.device, input)),

  /** The device's rows of the first differing bucket: names and stores the first difference. */
  auditDetail: deviceProcedure.input(AuditDetailInput).mutation(async ({ ctx, input }) => {
    try {
      return await resolveAuditDetail(ctx.services.prisma, ctx.device, input);
    } catch (error) {
      if (error instanceof AuditNotFound) {
        throw new TRPCError({ code: "NOT_FOUND", message: error.message });
      }
      throw error;
    }
  }),

  /** The calling device's own diagnosis (the CLI's `status --explain`). */
  explainSelf: deviceProcedure.query(async ({ ctx }) => {
    const diagnosis = await explainDevice(explainContext(ctx.services), ctx.device.id);
    if (!diagnosis) throw new TRPCError({ code: "NOT_FOUND", message: "no such device" });
    return diagnosis;
  }),

  /** A diagnosis of one of the signed-in user's own devices (the account page). */
  explainMine: userProcedure
    .input(z.object({ deviceId: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const diagnosis = await explainDevice(explainContext(ctx.services), input.deviceId);
      if (!diagnosis || diagnosis.userId !== ctx.principal.userId) {
        throw new TRPCError({ code: "NOT_FOUND", message: "no such device" });
      }
      return diagnosis;
    }),
};

/** The admin side: any device's diagnosis. Mounted as admin.explainDevice. */
export const explainDeviceProcedure = adminProcedure
  .input(z.object({ deviceId: z.uuid() }))
  .query(async ({ ctx, input }) => {
    const diagnosis = await explainDevice(explainContext(ctx.services), input.deviceId);
    if (!diagnosis) throw new TRPCError({ code: "NOT_FOUND", message: "no such device" });
    return diagnosis;
  });

/**
 * Compaction's what-if, mounted as admin.compactionWhatIf: the devices a run now (or the next
 * nightly run, `at: "nightly"`) would push into a full resync, with what each would download.
 */
export const compactionWhatIfProcedure = adminProcedure
  .input(
    z.object({
      userId: z.uuid().optional(),
      at: z.enum(["now", "nightly"]).default("now"),
    }),
  )
  .query(async ({ ctx, input }) => {
    const { compaction, acks, prisma } = ctx.services;
    const at = input.at === "nightly" ? compaction.nextScheduledAt : compaction.settings.now();
    const result = await compactionWhatIf(
      { prisma, buffered: acks.peek(), settings: compaction.settings },
      { ...(input.userId ? { userId: input.userId } : {}), ...(at ? { at } : {}) },
    );
    return { ...result, at: at?.toISOString() ?? null };
  });

/**
 * An administrator revokes any device, through the one revoke path (revokeDevice: recorded,
 * then announced so every replica closes its sockets), and the action is audited.
 */
export const adminRevokeDeviceProcedure = adminProcedure
  .input(z.object({ deviceId: z.uuid() }))
  .mutation(async ({ ctx, input }) => {
    const { prisma } = ctx.services;
    const device = await prisma.device.findUnique({
      where: { id: input.deviceId },
      select: { userId: true, name: true, revokedAt: true },
    });
    if (!device) throw new TRPCError({ code: "NOT_FOUND", message: "no such device" });
    await revokeDevice(ctx.services, { userId: device.userId, deviceId: input.deviceId });
    await recordAudit(prisma, {
      actorId: ctx.principal.userId,
      action: "device_revoked",
      targetUserId: device.userId,
      targetDeviceId: input.deviceId,
      details: { name: device.name, alreadyRevoked: device.revokedAt !== null },
    });
    return { revoked: true };
  });

/**
 * Asks a device for a convergence audit: it learns it from the answer to its next telemetry
 * report (within a minute while online) and runs one. Mounted as admin.requestConvergenceAudit.
 */
export const requestConvergenceAuditProcedure = adminProcedure
  .input(z.object({ deviceId: z.uuid() }))
  .mutation(async ({ ctx, input }) => {
    const device = await ctx.services.prisma.device.findUnique({
      where: { id: input.deviceId },
      select: { id: true },
    });
    if (!device) throw new TRPCError({ code: "NOT_FOUND", message: "no such device" });
    await requestAudit(ctx.services.prisma, input.deviceId, ctx.principal.userId);
    return { requested: true };
  });

/** A device's lag history (sampled on the server), oldest first. Mounted as admin.lagHistory. */
export const lagHistoryProcedure = adminProcedure
  .input(z.object({ deviceId: z.uuid(), limit: z.int().min(1).max(10_000).default(500) }))
  .query(({ ctx, input }) => readLagHistory(ctx.services.prisma, input.deviceId, input.limit));

/**
 * Ops pushed and delivered per second over the last `days` (every replica together; minutes for
 * the last day, hours before), oldest first. Mounted as admin.throughputHistory.
 */
export const throughputHistoryProcedure = adminProcedure
  .input(
    z.object({
      days: z
        .number()
        .min(1 / 24)
        .max(30)
        .default(1),
    }),
  )
  .query(({ ctx, input }) =>
    readThroughputHistory(ctx.services.prisma, {
      sinceMs: input.days * 86_400_000,
      now: ctx.services.compaction.settings.now(),
    }),
  );

/** A device's newest convergence audits. Mounted as admin.convergenceAudits. */
export const convergenceAuditsProcedure = adminProcedure
  .input(z.object({ deviceId: z.uuid(), limit: z.int().min(1).max(20).default(5) }))
  .query(({ ctx, input }) => readAudits(ctx.services.prisma, input.deviceId, input.limit));

/** The audit log of administrator actions, newest first. Mounted as admin.audit. */
export const auditProcedure = adminProcedure
  .input(z.object({ limit: z.int().min(1).max(200).default(50) }))
  .query(({ ctx, input }) => readAudit(ctx.services.prisma, input.limit));

/**
 * Audits a compaction an administrator asked for: who, for whom, dry run or not, the what-if
 * preview taken before it ran (the devices it would force into a resync) and its outcome.
 */
export async function auditCompaction<R extends { outcome: string; runId?: string }>(
  services: Services,
  actorId: string,
  input: { dryRun: boolean; userId?: string | undefined },
  run: () => Promise<R>,
): Promise<R> {
  const preview = await compactionWhatIf(
    {
      prisma: services.prisma,
      buffered: services.acks.peek(),
      settings: services.compaction.settings,
    },
    input.userId ? { userId: input.userId } : {},
  );
  const result = await run();
  await recordAudit(services.prisma, {
    actorId,
    action: "compaction_run",
    targetUserId: input.userId ?? null,
    targetDeviceId: null,
    details: {
      dryRun: input.dryRun,
      outcome: result.outcome,
      runId: result.runId ?? null,
      preview: preview.devices.map((d) => ({
        deviceId: d.deviceId,
        name: d.name,
        email: d.email,
        resyncOps: d.resyncOps,
        resyncBytes: d.resyncBytes,
      })),
      previewTruncated: preview.truncated,
    },
  });
  return result;
}
