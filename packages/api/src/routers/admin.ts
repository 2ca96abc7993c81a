import { z } from "zod";
import type { RunResult } from "../compaction/runner.js";
import { adminProcedure } from "../trpc.js";

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** JSON-safe view of a run result (no Dates or BigInts on the wire). */
function present(result: RunResult) {
  if (result.outcome === "skipped") return result;
  if (result.outcome === "dry_run") {
    return {
      ...result,
      users: result.users.map((user) => ({
        ...user,
        devices: user.devices.map((d) => ({ ...d, lastSeenAt: d.lastSeenAt.toISOString() })),
        devicesNeedingResync: user.devicesNeedingResync.map((d) => ({
          ...d,
          lastSeenAt: d.lastSeenAt.toISOString(),
        })),
      })),
    };
  }
  return result;
}

export const adminRouter = {
  /** Runs compaction now (or previews it with dryRun), for everyone or one user. */
  runCompaction: adminProcedure
    .input(z.object({ dryRun: z.boolean().default(false), userId: z.uuid().optional() }))
    .mutation(async ({ ctx, input }) => {
      const result = await ctx.services.compaction.run({
        trigger: "manual",
        dryRun: input.dryRun,
        ...(input.userId ? { userIds: [input.userId] } : {}),
      });
      return present(result);
    }),

  /** The history of compaction runs, newest first. */
  compactionRuns: adminProcedure
    .input(z.object({ limit: z.int().min(1).max(200).default(50) }))
    .query(async ({ ctx, input }) => {
      const runs = await ctx.prisma.compactionRun.findMany({
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
