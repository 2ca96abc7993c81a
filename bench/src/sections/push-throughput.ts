import { type ChildHandle, startChild } from "../children.js";
import { type BenchContext, CHILD_SYNC_SERVER, type Section } from "../context.js";
import { type BenchDevice, nextOps, seedDevices } from "../fixtures.js";
import { createPushClient } from "../http-push.js";
import type { Progress } from "../progress.js";
import { rawUnnestInsert } from "../raw-push.js";
import type { Figure } from "../report.js";
import { ratePerSecond } from "../stats.js";

/** Concurrent devices, each of its own user (one user's pushes serialize on its lock). */
const DEVICES = 8;
/**
 * Long enough for V8 to have optimised the server's and the client's hot paths and for every
 * pooled connection to have run the push once: a cold server (first seconds after start) ran
 * at about 60% of its warm rate, and a sync server runs for days.
 */
export const WARMUP_MS = 5_000;
export const MEASURE_MS = 8_000;
/** A bound on pushes per device per step, whatever the speed. */
const MAX_PUSHES_PER_DEVICE = 200_000;

export interface LoopResult {
  ops: number;
  elapsedMs: number;
  /** CPU time per push while measuring: of the server child (when given) and of this process. */
  cpuMsPerPush: { server: number; bench: number };
}

/**
 * Every device pushes batch after batch (closed loop) for `durationMs`; counts the ops stored.
 * A warm-up of the same shape runs first and is not counted.
 */
export async function closedLoop(
  devices: BenchDevice[],
  batch: number,
  push: (device: BenchDevice, index: number) => Promise<void>,
  progress: Progress,
  label: string,
  server?: ChildHandle,
): Promise<LoopResult> {
  const run = async (durationMs: number, counted: boolean) => {
    let ops = 0;
    const started = performance.now();
    const end = started + durationMs;
    const stop = counted
      ? progress.every(1_000, () => `${label}: ${ops.toLocaleString("en-US")} ops stored`)
      : () => {};
    try {
      await Promise.all(
        devices.map(async (device, index) => {
          for (let i = 0; i < MAX_PUSHES_PER_DEVICE && performance.now() < end; i++) {
            await push(device, index);
            ops += batch;
          }
        }),
      );
    } finally {
      stop();
    }
    return { ops, elapsedMs: performance.now() - started };
  };
  await run(WARMUP_MS, false);
  const serverBefore = server ? await server.cpu() : null;
  const benchBefore = process.cpuUsage();
  const measured = await run(MEASURE_MS, true);
  const bench = process.cpuUsage(benchBefore);
  const serverAfter = server ? await server.cpu() : null;
  const pushes = measured.ops / batch;
  const msOf = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000 / pushes;
  return {
    ...measured,
    cpuMsPerPush: {
      server:
        serverBefore && serverAfter
          ? msOf({
              user: serverAfter.user - serverBefore.user,
              system: serverAfter.system - serverBefore.system,
            })
          : Number.NaN,
      bench: msOf(bench),
    },
  };
}

async function measure(
  context: BenchContext,
  progress: Progress,
): Promise<{ figures: Figure[]; cpu: string[] }> {
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
  try {
    for (const batch of [10, 100]) {
      progress.note(`batches of ${batch}: tRPC HTTP push, ${DEVICES} devices`);
      const viaHttp = await closedLoop(
        httpDevices,
        batch,
        async (device) => {
          await client.push(device.token, nextOps(device, batch));
        },
        progress,
        `HTTP b${batch}`,
        server,
      );
      progress.note(`batches of ${batch}: raw pg unnest insert, ${DEVICES} connections`);
      const connections = await Promise.all(rawDevices.map(() => context.pool.connect()));
      let viaRaw: LoopResult;
      try {
        viaRaw = await closedLoop(
          rawDevices,
          batch,
          async (device, index) => {
            const connection = connections[index];
            if (!connection) throw new Error("no connection for this device");
            await rawUnnestInsert(
              connection,
              device.userId,
              device.deviceId,
              nextOps(device, batch),
            );
          },
          progress,
          `raw b${batch}`,
        );
      } finally {
        for (const connection of connections) connection.release();
      }
      cpu.push(
        `batches of ${batch}: server process ${viaHttp.cpuMsPerPush.server.toFixed(2)} ms CPU per push (bench client ${viaHttp.cpuMsPerPush.bench.toFixed(2)} ms); raw pg: bench process ${viaRaw.cpuMsPerPush.bench.toFixed(2)} ms CPU per push`,
      );
      figures.push({
        name: `push throughput, batches of ${batch} (tRPC HTTP, ${DEVICES} devices)`,
        unit: "ops/s",
        value: ratePerSecond(viaHttp.ops, viaHttp.elapsedMs),
        baselineName: "raw pg unnest insert of the same rows",
        baseline: ratePerSecond(viaRaw.ops, viaRaw.elapsedMs),
        better: "higher",
        ...(batch === 10
          ? { target: { on: "figure" as const, kind: "min" as const, value: 5_000 } }
          : {}),
      });
    }
  } finally {
    client.close();
    await server.stop();
  }
  return { figures, cpu };
}

export const pushThroughput: Section = {
  number: 1,
  title: "Push throughput",
  budgetMs: 120_000,
  async run(context, progress) {
    const { figures, cpu } = await measure(context, progress);
    return {
      figures,
      notes: [
        `${DEVICES} devices of ${DEVICES} users push concurrently in a closed loop (each waits for its answer, then sends the next batch) for ${MEASURE_MS / 1000} s after a ${WARMUP_MS / 1000} s warm-up; every batch is new ops (no duplicates).`,
        "Figure: the real sync server (createSyncServer) in its own process, tRPC `sync.push` over HTTP/1.1 keep-alive, body exactly as httpLink sends it; per-device rate limits lifted so the push path, not the budget, is measured.",
        `Baseline: the same rows inserted by one raw \`pg\` unnest INSERT per batch (autocommit; no lock, idempotency or Lamport check), ${DEVICES} connections, same devices-per-user shape, in the bench process. The next figure compares the real push statement through Prisma and through raw \`pg\`.`,
        `CPU while measuring (Postgres not included): ${cpu.join("; ")}.`,
      ],
    };
  },
};
