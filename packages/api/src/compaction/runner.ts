import type { PrismaClient } from "@chorus/db";
import pg from "pg";
import type { AckBuffer } from "../sync/ack-buffer.js";
import {
  type CompactionSettings,
  compactUser,
  previewUser,
  type UserCompaction,
  type UserPreview,
} from "./compact-user.js";

/** One compaction run at a time across every replica: a session-level advisory lock. */
const COMPACTION_LOCK_KEY = 0x63686f72; // "chor"

export interface CompactionProgress {
  runId: string;
  usersDone: number;
  usersTotal: number;
  opsDeleted: number;
  current: string | null;
}

export interface RunOptions {
  trigger: "scheduled" | "manual";
  dryRun?: boolean;
  /** Only these users (default: every user with ops). */
  userIds?: string[];
  onProgress?: (progress: CompactionProgress) => void;
}

export type RunResult =
  | { outcome: "skipped"; runId: string; reason: string }
  | {
      outcome: "succeeded" | "failed";
      runId: string;
      users: UserCompaction[];
      opsDeleted: number;
      bytesFreed: number;
      error?: string;
    }
  | { outcome: "dry_run"; runId: string; users: UserPreview[] };

export interface CompactionRunnerDeps {
  prisma: PrismaClient;
  /** For the runner's lock: a dedicated session, outside the pool. */
  databaseUrl: string;
  acks: AckBuffer;
  settings: CompactionSettings;
  /** Makes every replica write its buffered ACKs of the user before MIN is read. */
  requestAckFlush?: (userId: string) => Promise<unknown>;
}

export async function runCompaction(
  deps: CompactionRunnerDeps,
  options: RunOptions,
): Promise<RunResult> {
  const { prisma } = deps;
  const lock = new pg.Client({
    connectionString: deps.databaseUrl,
    application_name: "chorus-compaction-lock",
  });
  // The lock is this session: when the session ends (terminated backend, failover, network),
  // the lock is gone. pg.Client then emits "error", which without a listener would be an
  // uncaught exception in the whole server process. The run stops at the next user instead.
  let lost: string | null = null;
  lock.on("error", (error) => {
    lost = `lost the compaction lock (its database session ended: ${error.message})`;
  });
  await lock.connect();
  try {
    const { rows } = await lock.query<{ locked: boolean }>(
      "SELECT pg_try_advisory_lock($1) AS locked",
      [COMPACTION_LOCK_KEY],
    );
    if (!rows[0]?.locked) {
      const run = await prisma.compactionRun.create({
        data: {
          trigger: options.trigger,
          dryRun: options.dryRun ?? false,
          outcome: "skipped",
          finishedAt: new Date(),
          error: "another compaction run is in progress",
        },
      });
      return {
        outcome: "skipped",
        runId: run.id.toString(),
        reason: "another compaction run is in progress",
      };
    }
    try {
      // Holding the lock, any run still marked running died with its process.
      await prisma.compactionRun.updateMany({
        where: { outcome: "running" },
        data: { outcome: "failed", finishedAt: new Date(), error: "interrupted (process stopped)" },
      });
      return await runLocked(deps, options, () => lost);
    } finally {
      // A lost session released the lock with it; there is nothing left to unlock.
      if (lost === null) {
        await lock.query("SELECT pg_advisory_unlock($1)", [COMPACTION_LOCK_KEY]).catch(() => {});
      }
    }
  } finally {
    await lock.end().catch(() => {});
  }
}

/** Thrown between users once the run's lock session has ended. */
class LockLostError extends Error {}

async function runLocked(
  deps: CompactionRunnerDeps,
  options: RunOptions,
  lockLost: () => string | null,
): Promise<RunResult> {
  const { prisma, acks, settings } = deps;
  const run = await prisma.compactionRun.create({
    data: { trigger: options.trigger, dryRun: options.dryRun ?? false, startedAt: settings.now() },
  });
  const runId = run.id.toString();
  const userIds =
    options.userIds ??
    (
      await prisma.user.findMany({
        where: { ops: { some: {} } },
        select: { id: true },
        orderBy: { id: "asc" },
      })
    ).map((user) => user.id);
  const progress: CompactionProgress = {
    runId,
    usersDone: 0,
    usersTotal: userIds.length,
    opsDeleted: 0,
    current: null,
  };
  options.onProgress?.({ ...progress });

  if (options.dryRun) {
    const users: UserPreview[] = [];
    for (const userId of userIds) {
      await deps.requestAckFlush?.(userId);
      users.push(await previewUser(prisma, acks, userId, settings));
      progress.usersDone++;
      options.onProgress?.({ ...progress, current: userId });
    }
    await prisma.compactionRun.update({
      where: { id: run.id },
      data: {
        outcome: "succeeded",
        finishedAt: new Date(),
        usersProcessed: users.length,
        opsDeleted: BigInt(users.reduce((sum, u) => sum + u.opsToDelete, 0)),
        bytesFreed: BigInt(users.reduce((sum, u) => sum + u.bytesToFree, 0)),
      },
    });
    return { outcome: "dry_run", runId, users };
  }

  const users: UserCompaction[] = [];
  let opsDeleted = 0;
  let bytesFreed = 0;
  try {
    for (const userId of userIds) {
      // Each user's transactions hold that user's lock, so the user in flight is safe either
      // way; but without the run's lock another replica may now run, so this one stops.
      const lost = lockLost();
      if (lost) throw new LockLostError(lost);
      progress.current = userId;
      options.onProgress?.({ ...progress });
      await deps.requestAckFlush?.(userId);
      const result = await compactUser(prisma, acks, userId, settings);
      users.push(result);
      opsDeleted += result.opsDeleted;
      bytesFreed += result.bytesFreed;
      progress.usersDone++;
      progress.opsDeleted = opsDeleted;
      // Progress is visible in the run's row while it goes on.
      await prisma.compactionRun.update({
        where: { id: run.id },
        data: {
          usersProcessed: users.length,
          opsDeleted: BigInt(opsDeleted),
          bytesFreed: BigInt(bytesFreed),
        },
      });
      options.onProgress?.({ ...progress });
    }
    const lost = lockLost();
    if (lost) throw new LockLostError(lost);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await prisma.compactionRun.update({
      where: { id: run.id },
      data: { outcome: "failed", finishedAt: new Date(), error: message.slice(0, 2000) },
    });
    return { outcome: "failed", runId, users, opsDeleted, bytesFreed, error: message };
  }
  await prisma.compactionRun.update({
    where: { id: run.id },
    data: { outcome: "succeeded", finishedAt: new Date() },
  });
  return { outcome: "succeeded", runId, users, opsDeleted, bytesFreed };
}
