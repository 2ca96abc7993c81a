import { spawn } from "node:child_process";
import { compactionSurvivors, type SyncOp } from "@chorus/protocol";
import { sleep, waitUntil } from "@chorus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compactUser, DAY_MS } from "../../src/compaction/compact-user.js";
import { ApiTestbed } from "../support.js";

// A fixed amount of work (ten seeded users, each compaction killed and rerun): about a minute on
// a quiet 2-core machine; the budget is only for a hang, sized for a CI machine's shared cores.
const DRILL_BUDGET_MS = 600_000;

let t: ApiTestbed;
beforeAll(async () => {
  t = await ApiTestbed.start();
});
afterAll(async () => {
  await t.close();
});

const child = new URL("../fixtures/compact-child.ts", import.meta.url).pathname;
const OPS = 3_000;
const BATCH = 100;

/** A user with OPS writes over 40 entities (3 fields each, a delete now and then), all read. */
async function seededUser(): Promise<{ userId: string; min: number }> {
  const userId = await t.user();
  const deviceId = await t.device(userId);
  await t.prisma.$executeRaw`
    INSERT INTO sync_op (user_id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value)
    SELECT ${userId}::uuid, ${deviceId}::uuid, gen_random_uuid(), i, 'playlist', 'e' || (i % 40),
           CASE WHEN i % 17 = 0 THEN NULL ELSE (ARRAY['name', 'rank', 'notes'])[1 + i % 3] END,
           (CASE WHEN i % 17 = 0 THEN 'delete' ELSE 'set' END)::"SyncOpKind",
           CASE WHEN i % 17 = 0 THEN NULL ELSE to_jsonb(i) END
      FROM generate_series(1, ${OPS}) AS i`;
  const ops = await t.allOps(userId);
  const min = ops[ops.length - 5]?.id as number; // the device has read all but the last few
  await t.storedCursor(userId, deviceId, min);
  return { userId, min };
}

/** The table agrees with the watermark: below it exactly the survivors, above it untouched. */
async function expectConsistent(userId: string, original: SyncOp[]): Promise<number> {
  const watermark = await t.watermark(userId);
  const now = (await t.allOps(userId)).map((op) => op.id);
  const below = compactionSurvivors(original.filter((op) => op.id < watermark)).map((op) => op.id);
  const above = original.filter((op) => op.id >= watermark).map((op) => op.id);
  expect(now).toEqual([...below, ...above]);
  return watermark;
}

/**
 * Runs the compaction in a child process and SIGKILLs it: `early` rounds kill it at a random
 * moment right after it starts (often before its first commit); the others wait until its first
 * transaction has committed, then kill it at a random moment after — mid-run however fast or
 * slow the machine is.
 */
async function runChildAndKill(userId: string, early: boolean): Promise<"killed" | "finished"> {
  const proc = spawn(
    process.execPath,
    ["--import", "tsx", child, t.db.url, userId, String(BATCH)],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env },
    },
  );
  let stderr = "";
  proc.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<"killed" | "finished">((resolve, reject) => {
    proc.on("error", reject);
    proc.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve("killed");
      else if (code === 0) resolve("finished");
      else reject(new Error(`compaction child failed (${code}): ${stderr}`));
    });
  });
  const started = new Promise<void>((resolve) => {
    proc.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("started")) resolve();
    });
  });
  await Promise.race([started, exited]);
  if (!early) {
    await waitUntil(
      "the compaction child's first commit (or its end)",
      async () => proc.exitCode !== null || (await t.watermark(userId)) !== 0,
      { intervalMs: 5 },
    );
  }
  // A random moment to kill at: the drill's randomness, not a wait for anything.
  await sleep(Math.random() * (early ? 300 : 150));
  proc.kill("SIGKILL");
  return exited;
}

describe("compaction is atomic per transaction", () => {
  it(
    "killed with SIGKILL at random moments, the watermark and the table always agree; a rerun completes",
    async () => {
      const outcomes = { beforeFirstCommit: 0, midway: 0, finished: 0 };
      for (let round = 0; round < 10; round++) {
        const { userId, min } = await seededUser();
        const original = await t.allOps(userId);
        const ended = await runChildAndKill(userId, round % 4 === 0);

        const watermark = await expectConsistent(userId, original);
        if (ended === "finished" || watermark === min) outcomes.finished++;
        else if (watermark === 0) outcomes.beforeFirstCommit++;
        else outcomes.midway++;

        const rerun = await compactUser(t.prisma, t.acks, userId, {
          staleWindowMs: 90 * DAY_MS,
          batchSize: BATCH,
          now: t.clock,
        });
        expect(rerun.watermarkAfter).toBe(min);
        expect(await expectConsistent(userId, original)).toBe(min);
      }
      console.log("SIGKILL outcomes", outcomes);
      // The kills must have landed inside the run, or this proved nothing.
      expect(outcomes.midway).toBeGreaterThan(0);
    },
    DRILL_BUDGET_MS,
  );
});
