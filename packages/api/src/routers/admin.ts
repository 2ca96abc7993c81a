import { z } from "zod";
import { DevicesPageInput, devicesPage } from "../admin/devices-page.js";
import { consoleEvents } from "../admin/live.js";
import { RecentOpsInput, recentOps } from "../admin/recent-ops.js";
import { UsersPageInput, usersPage } from "../admin/users-page.js";
import { previewUser } from "../compaction/compact-user.js";
import type { DevicePosition } from "../compaction/positions.js";
import type { RunResult } from "../compaction/runner.js";
import { adminProcedure } from "../trpc.js";
import {
  adminRevokeDeviceProcedure,
  auditCompaction,
  auditProcedure,
  compactionWhatIfProcedure,
  convergenceAuditsProcedure,
  explainDeviceProcedure,
  lagHistoryProcedure,
  requestConvergenceAuditProcedure,
  throughputHistoryProcedure,
} from "./diagnostics.js";

const iso = (date: Date | null) => date?.toISOString() ?? null;

const position = (d: DevicePosition) => ({ ...d, lastSeenAt: d.lastSeenAt.toISOString() });

/** JSON-safe view of a run result (no Dates or BigInts on the wire). */
function present(result: RunResult) {
  if (result.outcome === "skipped") return result;
  if (result.outcome === "dry_run") {
    return {
      ...result,
      users: result.users.map((user) => ({
        ...user,
        devices: user.devices.map(position),
        devicesNeedingResync: user.devicesNeedingResync.map(position),
      })),
    };
  }
  return result;
}

export const adminRouter = {
  users: adminProcedure
    .input(UsersPageInput)
    .query(({ ctx, input }) => usersPage(ctx.services.prisma, input)),

  /** The devices table: server-side paging, sorting and filtering; live cursor, lag, staleness. */
  devices: adminProcedure.input(DevicesPageInput).query(({ ctx, input }) =>
    devicesPage(ctx.services.prisma, input, {
      online: ctx.services.bus.onlineDevices(),
      buffered: ctx.services.acks.peek(),
      staleWindowMs: ctx.services.compaction.settings.staleWindowMs,
      now: ctx.services.compaction.settings.now(),
    }),
  ),

  /** One user's compaction state: watermark, schedule, and what a run now would do. */
  user: adminProcedure.input(z.object({ userId: z.uuid() })).query(async ({ ctx, input }) => {
    const { compaction, acks } = ctx.services;
    const user = await ctx.services.prisma.user.findUnique({
      where: { id: input.userId },
      select: { id: true, email: true, role: true, watermark: true },
    });
    if (!user) return null;
    const preview = await previewUser(ctx.services.prisma, acks, user.id, compaction.settings);
    return {
      id: user.id,
      email: user.email,
      role: user.role,
      watermark: preview.watermark,
      lastCompactedAt: user.watermark?.updatedAt.toISOString() ?? null,
      nextCompactionAt: compaction.nextScheduledAt?.toISOString() ?? null,
      staleWindowMs: compaction.settings.staleWindowMs,
      preview: {
        target: preview.target,
        opsToDelete: preview.opsToDelete,
        bytesToFree: preview.bytesToFree,
        devicesNeedingResync: preview.devicesNeedingResync.map(position),
      },
      devices: preview.devices.map(position),
    };
  }),

  /** "Why is this device behind?": one device's diagnosis and verdicts. */
  explainDevice: explainDeviceProcedure,

  /** Before a run: which devices it would force into a full resync, and what each downloads. */
  compactionWhatIf: compactionWhatIfProcedure,

  /** Asks a device to compare its synced state with the server's (the convergence audit). */
  requestConvergenceAudit: requestConvergenceAuditProcedure,

  /** A device's newest convergence audits, with the first difference of a mismatch. */
  convergenceAudits: convergenceAuditsProcedure,

  /** A device's lag over time, sampled on the server (survives a reload of the console). */
  lagHistory: lagHistoryProcedure,

  /** Ops pushed and delivered per second over time (sampled on the server, kept 30 days). */
  throughputHistory: throughputHistoryProcedure,

  /** Revokes any device (the one revoke path), audited. */
  revokeDevice: adminRevokeDeviceProcedure,

  /** Who did what: compaction runs with their preview, revocations. */
  audit: auditProcedure,
  /** A user's newest ops; sealed values appear as sealed with their size, never as ciphertext. */
  recentOps: adminProcedure
    .input(RecentOpsInput)
    .query(({ ctx, input }) => recentOps(ctx.services.prisma, input)),

  /** Live feed for the console: "changed" pulses and compaction progress. */
  live: adminProcedure.subscription(async function* ({ ctx, signal }) {
    const abort = new AbortController();
    signal?.addEventListener("abort", () => abort.abort(), { once: true });
    try {
      yield* consoleEvents(ctx.services, abort.signal);
    } finally {
      abort.abort();
    }
  }),

  /** Runs compaction now (or previews it with dryRun), for everyone or one user. */
  runCompaction: adminProcedure
    .input(z.object({ dryRun: z.boolean().default(false), userId: z.uuid().optional() }))
    .mutation(async ({ ctx, input }) => {
      const result = await auditCompaction(ctx.services, ctx.principal.userId, input, () =>
        ctx.services.compaction.run({
          trigger: "manual",
          dryRun: input.dryRun,
          ...(input.userId ? { userIds: [input.userId] } : {}),
        }),
      );
      return present(result);
    }),

  /** The history of compaction runs, newest first. */
  compactionRuns: adminProcedure
    .input(z.object({ limit: z.int().min(1).max(200).default(50) }))
    .query(async ({ ctx, input }) => {
      const runs = await ctx.services.prisma.compactionRun.findMany({
        orderBy: { id: "desc" },
        take: input.limit,
      });
      return runs.map((run) => ({
        id: run.id.toString(),
        trigger: run.trigger,
        dryRun: run.dryRun,
        outcome: run.outcome,
        startedAt: run.startedAt.toISOString(),
        finishedAt: iso(run.finishedAt),
        usersProcessed: run.usersProcessed,
        opsDeleted: Number(run.opsDeleted),
        bytesFreed: Number(run.bytesFreed),
        error: run.error,
      }));
    }),
};
