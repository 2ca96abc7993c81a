import { startChild } from "../children.js";
import { compareInRounds, ROUND_MS, ROUNDS, roundsOf, WARMUP_MS } from "../closed-loop.js";
import { type BenchContext, CHILD_SYNC_SERVER, type Section } from "../context.js";
import { type BenchDevice, nextOps, seedDevices } from "../fixtures.js";
import { createPushClient } from "../http-push.js";
import type { Progress } from "../progress.js";
import { rawUnnestInsert } from "../raw-push.js";
import type { Figure } from "../report.js";
import { connectTrpcSocket, type TrpcSocket } from "../trpc-socket.js";

/** Concurrent devices, each of its own user (one user's pushes serialize on its lock). */
const DEVICES = 8;

/**
 * The share of the raw insert a push must reach: half of it in batches of 10, 60% in batches
 * of 100 (where the fixed cost per request weighs less). Over both transports.
 */
const SHARE_OF_RAW: Record<number, number> = { 10: 0.5, 100: 0.6 };

function shareOfRaw(batch: number): NonNullable<Figure["target"]> {
  const share = SHARE_OF_RAW[batch];
  if (share === undefined) throw new Error(`no target for batches of ${batch}`);
  return { on: "ratio", kind: "max", value: 1 / share };
}

async function measure(
  context: BenchContext,
  progress: Progress,
): Promise<{ figures: Figure[]; cpu: string[]; rounds: string[] }> {
  const groups = await seedDevices(context.pool, context.key, DEVICES * 3, 1);
  const httpDevices = groups.slice(0, DEVICES).map((group) => group[0] as BenchDevice);
  const rawDevices = groups.slice(DEVICES, DEVICES * 2).map((group) => group[0] as BenchDevice);
  const socketDevices = groups.slice(DEVICES * 2).map((group) => group[0] as BenchDevice);

  const server = await startChild("sync-server", CHILD_SYNC_SERVER, {
    databaseUrl: context.databaseUrl,
    jwks: context.jwks,
  });
  const client = createPushClient(server.port, DEVICES);
  // One WebSocket per device, as a desktop holds it (its subscription would ride on it too).
  const sockets: TrpcSocket[] = await Promise.all(
    socketDevices.map((device) =>
      connectTrpcSocket(`ws://127.0.0.1:${server.port}/trpc`, device.token, () => 0),
    ),
  );
  const figures: Figure[] = [];
  const cpu: string[] = [];
  const rounds: string[] = [];
  // One raw connection per device for the baseline, held for the whole section.
  const connections = await Promise.all(rawDevices.map(() => context.pool.connect()));
  try {
    for (const batch of [10, 100]) {
      progress.note(
        `batches of ${batch}: tRPC push over HTTP and over the WebSocket, raw pg unnest insert, ${DEVICES} devices`,
      );
      const [viaHttp, viaSocket, viaRaw] = await compareInRounds(
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
            label: `WebSocket b${batch}`,
            devices: socketDevices,
            batch,
            server,
            push: async (device, index) => {
              const socket = sockets[index];
              if (!socket) throw new Error("no socket for this device");
              await socket.call("mutation", "sync.push", { ops: nextOps(device, batch) });
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
      if (!viaHttp || !viaSocket || !viaRaw) throw new Error("no result");
      cpu.push(
        `batches of ${batch}: server process ${viaHttp.cpuMsPerPush.server.toFixed(2)} ms CPU per push over HTTP, ${viaSocket.cpuMsPerPush.server.toFixed(2)} ms over the WebSocket (bench client ${viaHttp.cpuMsPerPush.bench.toFixed(2)} / ${viaSocket.cpuMsPerPush.bench.toFixed(2)} ms); raw pg: bench process ${viaRaw.cpuMsPerPush.bench.toFixed(2)} ms CPU per push`,
      );
      rounds.push(
        `batches of ${batch}: HTTP ${roundsOf(viaHttp)}; WebSocket ${roundsOf(viaSocket)}; raw ${roundsOf(viaRaw)} ops/s`,
      );
      figures.push({
        name: `push throughput, batches of ${batch} (tRPC HTTP, ${DEVICES} devices)`,
        unit: "ops/s",
        value: viaHttp.opsPerSecond,
        baselineName: "raw pg unnest insert of the same rows",
        baseline: viaRaw.opsPerSecond,
        better: "higher",
        target: shareOfRaw(batch),
      });
      figures.push({
        name: `push throughput, batches of ${batch} (tRPC over the device's WebSocket, ${DEVICES} devices)`,
        unit: "ops/s",
        value: viaSocket.opsPerSecond,
        baselineName: "raw pg unnest insert of the same rows",
        baseline: viaRaw.opsPerSecond,
        better: "higher",
        target: shareOfRaw(batch),
      });
    }
  } finally {
    for (const connection of connections) connection.release();
    for (const socket of sockets) socket.terminate();
    client.close();
    await server.stop();
  }
  return { figures, cpu, rounds };
}

export const pushThroughput: Section = {
  number: 1,
  title: "Push throughput",
  budgetMs: 240_000,
  async run(context, progress) {
    const { figures, cpu, rounds } = await measure(context, progress);
    return {
      figures,
      notes: [
        `${DEVICES} devices of ${DEVICES} users push concurrently in a closed loop (each waits for its answer, then sends the next batch); every batch is new ops (no duplicates). Each variant is warmed up for ${WARMUP_MS / 1000} s, then measured in ${ROUNDS} rounds of ${ROUND_MS / 1000} s interleaved with its baseline's; each figure is the median round (the machine's speed drifts between minutes).`,
        "Figures: the real sync server (createSyncServer) in its own process, tRPC `sync.push` over HTTP/1.1 keep-alive, body exactly as httpLink sends it, and over one authenticated WebSocket per device (a `mutation` message as wsLink sends it, on the socket a desktop holds); other devices of other users for each transport, measured in turn on the same server; per-device rate limits lifted so the push path, not the budget, is measured.",
        `Baseline: the same rows inserted by one raw \`pg\` unnest INSERT per batch (autocommit; no lock, idempotency or Lamport check), ${DEVICES} connections, same devices-per-user shape, in the bench process. The next figure compares the real push statement through Prisma and through raw \`pg\`.`,
        "Targets: a push reaches at least 50% of the raw insert's ops/s in batches of 10 and 60% in batches of 100, over HTTP and over the WebSocket (ratio <= 2x and <= 1.67x).",
        `Rounds: ${rounds.join("; ")}.`,
        `CPU in the median round (Postgres not included): ${cpu.join("; ")}.`,
      ],
    };
  },
};
