import { startChild } from "../children.js";
import { compareInRounds, ROUND_MS, ROUNDS, roundsOf, WARMUP_MS } from "../closed-loop.js";
import { type BenchContext, CHILD_SYNC_SERVER, type Section } from "../context.js";
import { type BenchDevice, nextOps, seedDevices } from "../fixtures.js";
import { createPushClient } from "../http-push.js";
import type { Progress } from "../progress.js";
import { rawUnnestInsert } from "../raw-push.js";
import type { Figure } from "../report.js";

/** Concurrent devices, each of its own user (one user's pushes serialize on its lock). */
const DEVICES = 8;

async function measure(
  context: BenchContext,
  progress: Progress,
): Promise<{ figures: Figure[]; cpu: string[]; rounds: string[] }> {
  const groups = await seedDevices(context.pool, context.key, DEVICES * 2, 1);
  const httpDevices = groups.slice(0, DEVICES).map((group) => group[0] as BenchDevice);
  const rawDevices = groups.slice(DEVICES).map((group) => group[0] as BenchDevice);

  const server = await startChild("sync-server", CHILD_SYNC_SERVER, {
    databaseUrl: context.databaseUrl,
    jwks: context.jwks,
  });
  const client = createPushClient(server.port, DEVICES);
  const figures: Figure[] = [];
  const cpu: string[] = [];
  const rounds: string[] = [];
  // One raw connection per device for the baseline, held for the whole section.
  const connections = await Promise.all(rawDevices.map(() => context.pool.connect()));
  try {
    for (const batch of [10, 100]) {
      progress.note(
        `batches of ${batch}: tRPC HTTP push and raw pg unnest insert, ${DEVICES} devices`,
      );
      const [viaHttp, viaRaw] = await compareInRounds(
        [
          {
            label: `HTTP b${batch}`,
            devices: httpDevices,
            batch,
            server,
            push: async (device) => {
              await client.push(device.token, nextOps(device, batch));
            },
          },
          {
            label: `raw b${batch}`,
            devices: rawDevices,
            batch,
            push: async (device, index) => {
              const connection = connections[index];
              if (!connection) throw new Error("no connection for this device");
              await rawUnnestInsert(
                connection,
                device.userId,
                device.deviceId,
                nextOps(device, batch),
              );
            },
          },
        ],
        progress,
      );
      if (!viaHttp || !viaRaw) throw new Error("no result");
      cpu.push(
        `batches of ${batch}: server process ${viaHttp.cpuMsPerPush.server.toFixed(2)} ms CPU per push (bench client ${viaHttp.cpuMsPerPush.bench.toFixed(2)} ms); raw pg: bench process ${viaRaw.cpuMsPerPush.bench.toFixed(2)} ms CPU per push`,
      );
      rounds.push(`batches of ${batch}: HTTP ${roundsOf(viaHttp)}; raw ${roundsOf(viaRaw)} ops/s`);
      figures.push({
        name: `push throughput, batches of ${batch} (tRPC HTTP, ${DEVICES} devices)`,
        unit: "ops/s",
        value: viaHttp.opsPerSecond,
        baselineName: "raw pg unnest insert of the same rows",
        baseline: viaRaw.opsPerSecond,
        better: "higher",
        ...(batch === 10
          ? { target: { on: "figure" as const, kind: "min" as const, value: 5_000 } }
          : {}),
      });
    }
  } finally {
    for (const connection of connections) connection.release();
    client.close();
    await server.stop();
  }
  return { figures, cpu, rounds };
}

export const pushThroughput: Section = {
  number: 1,
  title: "Push throughput",
  budgetMs: 180_000,
  async run(context, progress) {
    const { figures, cpu, rounds } = await measure(context, progress);
    return {
      figures,
      notes: [
        `${DEVICES} devices of ${DEVICES} users push concurrently in a closed loop (each waits for its answer, then sends the next batch); every batch is new ops (no duplicates). Each variant is warmed up for ${WARMUP_MS / 1000} s, then measured in ${ROUNDS} rounds of ${ROUND_MS / 1000} s interleaved with its baseline's; each figure is the median round (the machine's speed drifts between minutes).`,
        "Figure: the real sync server (createSyncServer) in its own process, tRPC `sync.push` over HTTP/1.1 keep-alive, body exactly as httpLink sends it; per-device rate limits lifted so the push path, not the budget, is measured.",
        `Baseline: the same rows inserted by one raw \`pg\` unnest INSERT per batch (autocommit; no lock, idempotency or Lamport check), ${DEVICES} connections, same devices-per-user shape, in the bench process. The next figure compares the real push statement through Prisma and through raw \`pg\`.`,
        `Rounds: ${rounds.join("; ")}.`,
        `CPU in the median round (Postgres not included): ${cpu.join("; ")}.`,
      ],
    };
  },
};
