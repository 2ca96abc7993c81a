import { pushOps } from "@chorus/api";
import { createPrisma } from "@chorus/db";
import pg from "pg";
import { compareInRounds, ROUND_MS, ROUNDS, roundsOf, WARMUP_MS } from "../closed-loop.js";
import type { BenchContext, Section } from "../context.js";
import { type BenchDevice, nextOps, seedDevices } from "../fixtures.js";
import type { Progress } from "../progress.js";
import { rawPush } from "../raw-push.js";
import type { Figure } from "../report.js";

const BATCH = 10;

async function measure(
  context: BenchContext,
  progress: Progress,
): Promise<{ figures: Figure[]; cpu: string[]; rounds: string[] }> {
  const shapes = [1, 8];
  const total = shapes.reduce((sum, devices) => sum + devices, 0);
  const groups = await seedDevices(context.pool, context.key, total * 2, 1);
  const devices = groups.map((group) => group[0] as BenchDevice);
  // The pool size createPrisma gives the server by default.
  const prisma = createPrisma(context.databaseUrl, { max: 10 });
  // The baseline's pool: the same size, as hand-written SQL in the server would have.
  const rawPool = new pg.Pool({ connectionString: context.databaseUrl, max: 10 });
  const figures: Figure[] = [];
  const cpu: string[] = [];
  const rounds: string[] = [];
  try {
    let offset = 0;
    for (const count of shapes) {
      const prismaDevices = devices.slice(offset, offset + count);
      const rawDevices = devices.slice(offset + total, offset + total + count);
      offset += count;
      progress.note(`${count} device(s), batches of ${BATCH}: Prisma and raw pg`);
      const [viaPrisma, viaRaw] = await compareInRounds(
        [
          {
            label: `prisma x${count}`,
            devices: prismaDevices,
            batch: BATCH,
            push: async (device) => {
              await pushOps(prisma, device.userId, device.deviceId, nextOps(device, BATCH));
            },
          },
          {
            label: `raw x${count}`,
            devices: rawDevices,
            batch: BATCH,
            push: async (device) => {
              await rawPush(rawPool, device.userId, device.deviceId, nextOps(device, BATCH));
            },
          },
        ],
        progress,
      );
      if (!viaPrisma || !viaRaw) throw new Error("no result");
      rounds.push(
        `${count} device(s): Prisma ${roundsOf(viaPrisma)}; raw ${roundsOf(viaRaw)} ops/s`,
      );
      cpu.push(
        `${count} device(s): ${viaPrisma.cpuMsPerPush.bench.toFixed(2)} ms per push through Prisma, ${viaRaw.cpuMsPerPush.bench.toFixed(2)} ms through raw pg`,
      );
      figures.push({
        name: `Prisma on the push path, ${count} device${count > 1 ? "s" : ""}, batches of ${BATCH}`,
        unit: "ops/s",
        value: viaPrisma.opsPerSecond,
        baselineName: "same SQL, raw pg",
        baseline: viaRaw.opsPerSecond,
        better: "higher",
        target: { on: "ratio", kind: "max", value: 1.3 },
      });
    }
  } finally {
    await prisma.$disconnect();
    await rawPool.end();
  }
  return { figures, cpu, rounds };
}

export const prismaOverhead: Section = {
  number: 1,
  title: "Prisma on the push path",
  budgetMs: 150_000,
  async run(context, progress) {
    const { figures, cpu, rounds } = await measure(context, progress);
    return {
      figures,
      notes: [
        `Figure: pushOps from @chorus/api on a createPrisma client (adapter-pg, pool of 10): the chorus_push_ops statement runs on that client's own node-postgres pool, not through Prisma's query engine (ADR 0030), so the ratio is what pushOps adds to the raw statement; in the bench process, closed loop, one device per user; ${WARMUP_MS / 1000} s of warm-up, then ${ROUNDS} rounds of ${ROUND_MS / 1000} s interleaved with the baseline's, median round.`,
        "Baseline: the identical statement with the same parameter and the same shaping of its answer through raw `pg` (a `pg.Pool` of 10, as hand-written SQL in the server would run it), same devices-per-user shape.",
        "Ratio = raw ops/s ÷ Prisma ops/s; target <= 1.3x.",
        `Rounds: ${rounds.join("; ")}.`,
        `Bench-process CPU in the median round (Postgres not included): ${cpu.join("; ")}.`,
      ],
    };
  },
};
