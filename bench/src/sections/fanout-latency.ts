import { type CpuShare, measureCpu, startChild } from "../children.js";
import { type BenchContext, CHILD_RAW_WS, CHILD_SYNC_SERVER, type Section } from "../context.js";
import { FanoutRig } from "../fanout-rig.js";
import { type BenchDevice, seedDevices } from "../fixtures.js";
import { createPushClient } from "../http-push.js";
import { inWaves, type Progress, waitUntil, wallClockMs } from "../progress.js";
import type { Figure } from "../report.js";
import { Samples, stampsOf } from "../stamps.js";
import type { LatencySummary } from "../stats.js";
import { connectRawSocket } from "../trpc-socket.js";

const SUBSCRIBERS = 1_000;
/*
 * 10 pushes/s, each to all 1,000 sockets: 10,000 deliveries/s offered. At 50/s (50,000/s) a
 * 2-core machine's server saturates and the figure measures its queue, not its latency; the
 * report prints the sustained delivery rate so saturation stays visible.
 */
const RATE = 10;
const DURATION_MS = 10_000;
const PUSHES = (RATE * DURATION_MS) / 1000;
const EXPECTED = PUSHES * SUBSCRIBERS;
const PUSHERS = 4;
const DRAIN_MS = 15_000;
const MAX_PAYLOAD = 1024 * 1024;

interface Run {
  commit: LatencySummary;
  send: LatencySummary;
  sample: string;
  cpu: CpuShare<number>;
}

async function measureSync(context: BenchContext, progress: Progress): Promise<Run> {
  const [devices] = await seedDevices(context.pool, context.key, 1, SUBSCRIBERS + PUSHERS);
  if (!devices) throw new Error("no devices seeded");
  const pushers = devices.slice(SUBSCRIBERS);
  const server = await startChild("sync-server", CHILD_SYNC_SERVER, {
    databaseUrl: context.databaseUrl,
    jwks: context.jwks,
  });
  const client = createPushClient(server.port, PUSHERS);
  let rig: FanoutRig | undefined;
  try {
    rig = await FanoutRig.connect(
      [
        {
          label: "subscribers",
          url: `ws://127.0.0.1:${server.port}/trpc`,
          devices: devices.slice(0, SUBSCRIBERS),
        },
      ],
      PUSHES,
      progress,
    );
    const live = rig;
    await live.warmUp(client, pushers[0] as BenchDevice, progress);
    const cpu = await measureCpu(server, () =>
      live.pushAtRate(
        client,
        pushers,
        { rate: RATE, count: PUSHES, expectedDeliveries: EXPECTED, drainMs: DRAIN_MS },
        progress,
      ),
    );
    const group = live.groups[0];
    if (!group || !live.sample) throw new Error("no op was delivered to any subscriber");
    return { commit: group.commit.summary(), send: group.send.summary(), sample: live.sample, cpu };
  } finally {
    rig?.close();
    client.close();
    await server.stop();
  }
}

/** The baseline: a bare ws server broadcasting the same message to as many sockets. */
async function measureRaw(sample: string, progress: Progress) {
  const server = await startChild("raw-ws", CHILD_RAW_WS, { maxPayload: MAX_PAYLOAD });
  const latency = new Samples(EXPECTED);
  try {
    const url = `ws://127.0.0.1:${server.port}`;
    progress.note(`connecting ${SUBSCRIBERS} sockets to a bare ws server`);
    const sockets = await inWaves(Array.from({ length: SUBSCRIBERS }), 100, () =>
      connectRawSocket(
        url,
        (message, receivedAt) => {
          const stamps = stampsOf(message);
          if (stamps) latency.add(receivedAt - stamps.stampedAt);
        },
        wallClockMs,
      ),
    );
    try {
      // The op's value carries the stamp; everything else is the sync server's real message.
      const template = sample.replace(/"value":\{[^}]*\}/, '"value":{"seq":SEQ,"stampedAt":STAMP}');
      progress.note(`broadcasting ${RATE}/s for ${DURATION_MS / 1000} s`);
      const cpu = await measureCpu(server, async () => {
        const start = performance.now();
        await server.request(
          "broadcast",
          { template, rate: RATE, durationMs: DURATION_MS },
          DURATION_MS + 30_000,
        );
        await waitUntil(() => latency.count >= EXPECTED, DRAIN_MS);
        return performance.now() - start;
      });
      return { latency: latency.summary(), cpu };
    } finally {
      for (const socket of sockets) socket.terminate();
    }
  } finally {
    await server.stop();
  }
}

/** CPU is the steadier number on a shared machine: µs of server CPU per delivered message. */
const share = (cpu: CpuShare<number>, deliveries: number) =>
  `server process ${(cpu.server * 100).toFixed(0)}% of a core = ${((cpu.server * cpu.result * 1000) / deliveries).toFixed(1)} µs CPU per delivery, bench process (all clients) ${(cpu.bench * 100).toFixed(0)}%; last delivery ${(cpu.result / 1000).toFixed(1)} s after the first send (${Math.round((deliveries * 1000) / cpu.result).toLocaleString("en-US")} deliveries/s sustained, ${((RATE * SUBSCRIBERS) / 1000).toFixed(0)}k/s offered)`;

export const fanoutLatency: Section = {
  number: 2,
  title: "Commit-to-delivery latency, 1,000 subscribers",
  budgetMs: 150_000,
  async run(context, progress) {
    const sync = await measureSync(context, progress);
    const raw = await measureRaw(sync.sample, progress);
    const figures: Figure[] = [
      {
        name: `commit-to-delivery p50, 1,000 subscribers, ${RATE} pushes/s`,
        unit: "ms",
        value: sync.commit.p50,
        baselineName: "bare ws broadcast",
        baseline: raw.latency.p50,
        better: "lower",
        target: { on: "figure", kind: "max", value: 5 },
      },
      {
        name: `commit-to-delivery p99, 1,000 subscribers, ${RATE} pushes/s`,
        unit: "ms",
        value: sync.commit.p99,
        baselineName: "bare ws broadcast",
        baseline: raw.latency.p99,
        better: "lower",
        target: { on: "figure", kind: "max", value: 25 },
      },
    ];
    return {
      figures,
      notes: [
        `${SUBSCRIBERS} devices of one user hold a \`sync.subscribe\` each (raw \`ws\` speaking tRPC's wire protocol: connectionParams token, subscription, PING/PONG) on the real server in its own process; ${PUSHERS} other devices of the user push one op per push over HTTP at ${RATE} pushes/s for ${DURATION_MS / 1000} s (open loop, ${PUSHES} pushes), so every push fans out to all ${SUBSCRIBERS} sockets.`,
        "Figure: receipt time minus the op's `created_at` (Postgres now() of the push transaction, stored to the millisecond). It is taken before the commit, so it is an upper bound of commit-to-delivery.",
        `Sync server: ${sync.commit.count.toLocaleString("en-US")} of ${EXPECTED.toLocaleString("en-US")} deliveries measured; commit-to-delivery max ${sync.commit.max.toFixed(1)} ms; push request sent -> delivered p50 ${sync.send.p50.toFixed(2)} ms, p99 ${sync.send.p99.toFixed(2)} ms; ${share(sync.cpu, sync.commit.count)}.`,
        `Baseline: a bare \`ws\` server (same library, no auth, no database) in its own process broadcasts a real delivered message (stamp in the op value, stamped just before the send loop) ${RATE} times a second for ${DURATION_MS / 1000} s to ${SUBSCRIBERS} sockets: ${raw.latency.count.toLocaleString("en-US")} deliveries, max ${raw.latency.max.toFixed(1)} ms; ${share(raw.cpu, raw.latency.count)}.`,
        "Clients and receipt times are in the bench process for both; all stamps are the machine's wall clock (performance.timeOrigin + now()).",
      ],
    };
  },
};
