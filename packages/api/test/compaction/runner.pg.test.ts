import { randomUUID } from "node:crypto";
import { waitUntil } from "@chorus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compactUser, DAY_MS } from "../../src/compaction/compact-user.js";
import { runCompaction } from "../../src/compaction/runner.js";
import { ApiTestbed, setOp } from "../support.js";

let t: ApiTestbed;
beforeAll(async () => {
  t = await ApiTestbed.start();
});
afterAll(async () => {
  await t.close();
});

const deps = () => ({
  prisma: t.prisma,
  databaseUrl: t.db.url,
  acks: t.acks,
  settings: { staleWindowMs: 90 * DAY_MS, batchSize: 100, now: t.clock },
});

async function userWithHistory(writes = 20) {
  const userId = await t.user();
  const deviceId = await t.device(userId);
  const entity = randomUUID();
  const ids = await t.push(
    userId,
    deviceId,
    Array.from({ length: writes }, (_, i) => setOp(entity, "name", i)),
  );
  await t.storedCursor(userId, deviceId, ids.at(-1) as number);
  return { userId, deviceId, ids };
}

describe("compaction runs", () => {
  it("records a run with its users, deleted ops, bytes freed and outcome", async () => {
    const { userId, ids } = await userWithHistory(20);
    const progress: number[] = [];
    const result = await runCompaction(deps(), {
      trigger: "manual",
      userIds: [userId],
      onProgress: (p) => progress.push(p.usersDone),
    });
    expect(result.outcome).toBe("succeeded");
    if (result.outcome !== "succeeded") return;
    expect(result.opsDeleted).toBe(18); // 19 writes below MIN keep one
    expect(await t.watermark(userId)).toBe(ids.at(-1));
    expect(progress.at(-1)).toBe(1);
    const run = await t.prisma.compactionRun.findUniqueOrThrow({
      where: { id: BigInt(result.runId) },
    });
    expect(run).toMatchObject({
      outcome: "succeeded",
      usersProcessed: 1,
      opsDeleted: 18n,
      trigger: "manual",
    });
    expect(Number(run.bytesFreed)).toBeGreaterThan(0);
    expect(run.finishedAt).not.toBeNull();
  });

  it("a dry run reports what would go and who would need a resync, and changes nothing", async () => {
    const { userId, ids } = await userWithHistory(10);
    const laggard = await t.device(userId, "old laptop");
    await t.storedCursor(userId, laggard, ids[2] as number, new Date(t.nowMs - 100 * DAY_MS));
    const result = await runCompaction(deps(), {
      trigger: "manual",
      dryRun: true,
      userIds: [userId],
    });
    expect(result.outcome).toBe("dry_run");
    if (result.outcome !== "dry_run") return;
    const [preview] = result.users;
    expect(preview).toMatchObject({ watermark: 0, target: ids.at(-1), opsToDelete: 8 });
    expect(preview?.devicesNeedingResync.map((d) => d.deviceId)).toEqual([laggard]);
    expect(await t.watermark(userId)).toBe(0);
    expect((await t.allOps(userId)).length).toBe(10);
  });

  it("two runners started together: one compacts, the other skips", async () => {
    const { userId } = await userWithHistory(20);
    // Hold the user's push lock so the first runner is certainly still running when the
    // second one starts.
    const lock = await t.holdUserLock(userId);
    const newestBefore = await t.prisma.compactionRun.findFirst({ orderBy: { id: "desc" } });
    const first = runCompaction(deps(), { trigger: "scheduled", userIds: [userId] });
    // The first runner holds the runner lock once its run row says "running" (and it stays
    // running: it waits for the user's lock held above).
    await waitUntil("the first run to hold the runner lock", async () => {
      const running = await t.prisma.compactionRun.findFirst({
        where: { outcome: "running", id: { gt: newestBefore?.id ?? 0n } },
      });
      return running !== null;
    });
    const second = await runCompaction(deps(), { trigger: "manual", userIds: [userId] });
    await lock.release();
    expect(second.outcome).toBe("skipped");
    expect((await first).outcome).toBe("succeeded");
    const runs = await t.prisma.compactionRun.findMany({ orderBy: { id: "desc" }, take: 2 });
    expect(runs.map((r) => r.outcome).sort()).toEqual(["skipped", "succeeded"]);
  });

  it("waits for the user's push lock: nothing is deleted or raised while a push holds it", async () => {
    const { userId, ids } = await userWithHistory(20);
    const lock = await t.holdUserLock(userId);
    let finished = false;
    const run = compactUser(t.prisma, t.acks, userId, deps().settings).finally(() => {
      finished = true;
    });
    try {
      // It takes the user's lock before it reads anything: it waits there.
      await waitUntil("the compaction to wait for the user's lock", async () => {
        const rows = await t.prisma.$queryRaw<{ n: number }[]>`
          SELECT count(*)::int AS n FROM pg_locks
           WHERE locktype = 'advisory' AND NOT granted
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
        return (rows[0]?.n ?? 0) > 0;
      });
      expect(finished).toBe(false);
      expect((await t.allOps(userId)).length).toBe(20);
      expect(await t.watermark(userId)).toBe(0);
    } finally {
      await lock.release();
    }
    expect((await run).watermarkAfter).toBe(ids.at(-1));
    expect((await t.allOps(userId)).length).toBe(2);
  });

  it("marks a run left 'running' by a dead process as interrupted", async () => {
    const stale = await t.prisma.compactionRun.create({ data: { trigger: "scheduled" } });
    await runCompaction(deps(), { trigger: "manual", userIds: [] });
    const row = await t.prisma.compactionRun.findUniqueOrThrow({ where: { id: stale.id } });
    expect(row.outcome).toBe("failed");
    expect(row.error).toMatch(/interrupted/);
  });
});
