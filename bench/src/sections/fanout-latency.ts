import { type CpuShare, measureCpu, startChild } from "../children.js";
import { type BenchContext, CHILD_RAW_WS, CHILD_SYNC_SERVER, type Section } from "../context.js";
import { FanoutRig } from "../fanout-rig.js";
import { type BenchDevice, seedDevices } from "../fixtures.js";
import { createPushClient } from "../http-push.js";
import { type ActivitySample, sampleActivity } from "../pg-activity.js";
import { inWaves, type Progress, sleep, waitUntil, wallClockMs } from "../progress.js";
import type { Figure } from "../report.js";
import { type Delivery, type StallDump, type StallWatch, watchStalls } from "../stalls.js";
import { Samples, stampsOf } from "../stamps.js";
import type { LatencySummary } from "../stats.js";
import { connectRawSocket } from "../trpc-socket.js";

const SOCKETS = 1_000;
const DURATION_MS = 10_000;
const DRAIN_MS = 15_000;
/** Pushes at the scenario's rate before measuring (not counted). */
const WARM_UP_MS = 5_000;
const MAX_PAYLOAD = 1024 * 1024;

/**
 * Who the 1,000 sockets belong to and how often ops arrive. A sync server fans a push out to
 * the OTHER devices of its user, so the target applies to `devices`: 1,000 connected devices
 * of 250 users (4 each), a fifth device of each user pushing. `broadcast` is the worst case, one
 * user with 1,000 devices, every push to all of them (10 pushes/s: at 50/s, 50,000 deliveries/s,
 * a 2-core machine's server saturates and the figure measures its queue); a bare `ws` server
 * cannot send 1,000 frames in under ~5 ms on this machine either, so it carries no target.
 */
export interface Scenario {
  key: "devices" | "broadcast";
  users: number;
  /** Subscribed devices per user; users x subscribers = SOCKETS. */
  subscribers: number;
  /** Pushes per second, round-robin over the users' pushing devices. */
  rate: number;
  title: string;
  withTarget: boolean;
}

const SCENARIOS: Scenario[] = [
  {
    key: "devices",
    users: 250,
    subscribers: 4,
    rate: 200,
    title: "1,000 sockets (250 users x 4 devices), 200 pushes/s",
    withTarget: true,
  },
  {
    key: "broadcast",
    users: 1,
    subscribers: 1_000,
    rate: 10,
    title: "one user's 1,000 devices, 10 pushes/s to all",
    withTarget: false,
  },
];

const pushesOf = (scenario: Scenario) => (scenario.rate * DURATION_MS) / 1000;
const expectedOf = (scenario: Scenario) => pushesOf(scenario) * scenario.subscribers;

/** What each process and Postgres did while the deliveries were measured (stalls.ts). */
export interface Stalls {
  deliveries: Delivery[];
  /** The server's stall dump, with when each measured op (by seq) was published. */
  server: StallDump & { published: Array<[number, number]> };
  bench: StallDump;
  postgres: ActivitySample[];
}

interface Run {
  commit: LatencySummary;
  send: LatencySummary;
  sample: string;
  cpu: CpuShare<number>;
  stalls?: Stalls;
}

export async function measureSync(
  context: BenchContext,
  scenario: Scenario,
  progress: Progress,
  options: { stalls?: boolean } = {},
): Promise<Run> {
  // Each user: `subscribers` devices holding sync.subscribe, and one more that pushes.
  const users = await seedDevices(
    context.pool,
    context.key,
    scenario.users,
    scenario.subscribers + 1,
  );
  const subscribers = users.flatMap((devices) => devices.slice(0, scenario.subscribers));
  const pushers = users.map((devices) => devices[scenario.subscribers] as BenchDevice);
  const server = await startChild("sync-server", CHILD_SYNC_SERVER, {
    databaseUrl: context.databaseUrl,
    jwks: context.jwks,
    stalls: options.stalls === true,
  });
  const client = createPushClient(server.port, Math.min(pushers.length, 16));
  let rig: FanoutRig | undefined;
  try {
    rig = await FanoutRig.connect(
      [{ label: "subscribers", url: `ws://127.0.0.1:${server.port}/trpc`, devices: subscribers }],
      pushesOf(scenario),
      progress,
    );
    const live = rig;
    await live.warmUp(client, pushers, progress);
    // A sync server runs for days: let V8 optimise the push and fan-out paths first.
    await live.pushAtRate(
      client,
      pushers,
      {
        rate: scenario.rate,
        count: (scenario.rate * WARM_UP_MS) / 1000,
        expectedDeliveries: 0,
        drainMs: 0,
        warmUp: true,
      },
      progress,
    );
    await sleep(1_000);
    // The bench process is watched only while the window runs (its timer would otherwise
    // keep running through every later section).
    let benchStalls: StallWatch | null = null;
    if (options.stalls) {
      benchStalls = watchStalls();
      await server.request("stallsReset", { pushes: pushesOf(scenario) });
    }
    const activity = options.stalls ? sampleActivity(context.pool, wallClockMs) : null;
    const cpu = await measureCpu(server, () =>
      live.pushAtRate(
        client,
        pushers,
        {
          rate: scenario.rate,
          count: pushesOf(scenario),
          expectedDeliveries: expectedOf(scenario),
          drainMs: DRAIN_MS,
        },
        progress,
      ),
    );
    const postgres = await activity?.stop();
    const bench = benchStalls?.dump();
    benchStalls?.stop();
    const group = live.groups[0];
    if (!group || !live.sample) throw new Error("no op was delivered to any subscriber");
    const stalls =
      bench && postgres
        ? {
            deliveries: group.deliveries.all(),
            server: await server.request<Stalls["server"]>("stallsDump"),
            bench,
            postgres,
          }
        : undefined;
    return {
      commit: group.commit.summary(),
      send: group.send.summary(),
      sample: live.sample,
      cpu,
      ...(stalls ? { stalls } : {}),
    };
  } finally {
    rig?.close();
    client.close();
    await server.stop();
  }
}

/**
 * The baseline: a bare ws server sending the same message to as many sockets per push; with
 * `insertInto`, each message's op is first inserted and committed (insert + commit + send).
 */
export async function measureRaw(
  sample: string,
  scenario: Scenario,
  progress: Progress,
  insertInto?: string,
) {
  const server = await startChild("raw-ws", CHILD_RAW_WS, {
    maxPayload: MAX_PAYLOAD,
    ...(insertInto ? { databaseUrl: insertInto } : {}),
  });
  const expected = expectedOf(scenario);
  const latency = new Samples(expected);
  try {
    const url = `ws://127.0.0.1:${server.port}`;
    progress.note(`connecting ${SOCKETS} sockets to a bare ws server`);
    const sockets = await inWaves(Array.from({ length: SOCKETS }), 100, () =>
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
      progress.note(
        `sending ${scenario.rate}/s for ${DURATION_MS / 1000} s, each to ${scenario.subscribers} sockets${insertInto ? ", each after inserting and committing its op" : ""}`,
      );
      const cpu = await measureCpu(server, async () => {
        const start = performance.now();
        await server.request(
          "broadcast",
          {
            template,
            rate: scenario.rate,
            durationMs: DURATION_MS,
            groupSize: scenario.subscribers,
            insert: insertInto !== undefined,
          },
          DURATION_MS + 30_000,
        );
        await waitUntil(() => latency.count >= expected, DRAIN_MS);
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
/** The server process's CPU (its share of the push included) divided over the deliveries. */
export const cpuPerDeliveryUs = (cpu: CpuShare<number>, deliveries: number) =>
  (cpu.server * cpu.result * 1000) / Math.max(1, deliveries);

const share = (cpu: CpuShare<number>, deliveries: number, scenario: Scenario) =>
  `server process ${(cpu.server * 100).toFixed(0)}% of a core = ${cpuPerDeliveryUs(cpu, deliveries).toFixed(1)} µs CPU per delivery (for the sync server, its share of the push's own work included), bench process (all clients) ${(cpu.bench * 100).toFixed(0)}%; last delivery ${(cpu.result / 1000).toFixed(1)} s after the first send (${Math.round((deliveries * 1000) / cpu.result).toLocaleString("en-US")} deliveries/s sustained, ${(scenario.rate * scenario.subscribers).toLocaleString("en-US")}/s offered)`;

async function measureScenario(context: BenchContext, scenario: Scenario, progress: Progress) {
  const sync = await measureSync(context, scenario, progress);
  const raw = await measureRaw(sync.sample, scenario, progress);
  // The baseline a sync server is held to: make the op durable, then send it to the sockets.
  const durable = scenario.withTarget
    ? await measureRaw(sync.sample, scenario, progress, context.databaseUrl)
    : null;
  const expected = expectedOf(scenario);
  const figures: Figure[] = [
    {
      name: `commit-to-delivery p50, ${scenario.title}`,
      unit: "ms",
      value: sync.commit.p50,
      baselineName: "bare ws, same sockets per message",
      baseline: raw.latency.p50,
      better: "lower",
      ...(scenario.withTarget
        ? { target: { on: "figure" as const, kind: "max" as const, value: 5 } }
        : {}),
    },
    {
      name: `commit-to-delivery p99, ${scenario.title}`,
      unit: "ms",
      value: sync.commit.p99,
      baselineName: "bare ws, same sockets per message",
      baseline: raw.latency.p99,
      better: "lower",
      ...(scenario.withTarget
        ? { target: { on: "figure" as const, kind: "max" as const, value: 25 } }
        : {}),
    },
  ];
  if (scenario.withTarget) {
    figures.push({
      name: `server CPU per delivery, ${scenario.title}`,
      unit: "µs",
      value: cpuPerDeliveryUs(sync.cpu, sync.commit.count),
      baselineName: "bare ws server, same messages",
      baseline: cpuPerDeliveryUs(raw.cpu, raw.latency.count),
      better: "lower",
      target: { on: "ratio", kind: "max", value: 3 },
    });
  }
  if (durable) {
    figures.push(
      {
        name: `commit-to-delivery p50, ${scenario.title}, against insert + commit + send`,
        unit: "ms",
        value: sync.commit.p50,
        baselineName: "raw pg insert+commit, then bare ws send",
        baseline: durable.latency.p50,
        better: "lower",
        target: { on: "ratio", kind: "max", value: 1.5 },
      },
      {
        name: `commit-to-delivery p99, ${scenario.title}, against insert + commit + send`,
        unit: "ms",
        value: sync.commit.p99,
        baselineName: "raw pg insert+commit, then bare ws send",
        baseline: durable.latency.p99,
        better: "lower",
        target: { on: "ratio", kind: "max", value: 2.5 },
      },
    );
  }
  const notes = [
    `${scenario.title}: ${sync.commit.count.toLocaleString("en-US")} of ${expected.toLocaleString("en-US")} deliveries measured; commit-to-delivery max ${sync.commit.max.toFixed(1)} ms; push request sent -> delivered p50 ${sync.send.p50.toFixed(2)} ms, p99 ${sync.send.p99.toFixed(2)} ms; ${share(sync.cpu, sync.commit.count, scenario)}. Bare ws: ${raw.latency.count.toLocaleString("en-US")} deliveries, max ${raw.latency.max.toFixed(1)} ms; ${share(raw.cpu, raw.latency.count, scenario)}.${durable ? ` Insert + commit + send: ${durable.latency.count.toLocaleString("en-US")} deliveries, max ${durable.latency.max.toFixed(1)} ms; ${share(durable.cpu, durable.latency.count, scenario)} (Postgres not included).` : ""}`,
  ];
  return { figures, notes };
}

export const fanoutLatency: Section = {
  number: 2,
  title: "Commit-to-delivery latency, 1,000 sockets",
  budgetMs: 240_000,
  async run(context, progress) {
    const figures: Figure[] = [];
    const measured: string[] = [];
    for (const scenario of SCENARIOS) {
      progress.note(`== ${scenario.title}`);
      const result = await measureScenario(context, scenario, progress);
      figures.push(...result.figures);
      measured.push(...result.notes);
    }
    return {
      figures,
      notes: [
        `${SOCKETS} device sockets hold a \`sync.subscribe\` each (raw \`ws\` speaking tRPC's wire protocol: connectionParams token, subscription, PING/PONG) on the real server in its own process. Each user has one more device that pushes one op per push over HTTP, at a fixed rate for ${DURATION_MS / 1000} s (open loop, round-robin over the users) after ${WARM_UP_MS / 1000} s of the same pushes not counted (a fresh server is still being optimised by V8), so each push fans out to that user's subscribed devices.`,
        `Two shapes: the one the target applies to, 250 users x 4 devices at 200 pushes/s (each push reaches 4 sockets, the fan-out a sync server does for a user's devices), and the worst case, one user with 1,000 devices at 10 pushes/s (each push reaches all 1,000: a broadcast, no target; sending 1,000 frames takes a bare ws server ~10 ms on this machine, so its p50 alone is over 5 ms).`,
        "Figure: receipt time minus the op's `created_at` (Postgres now() of the push statement, stored to the millisecond). It is taken before the commit, so it is an upper bound of commit-to-delivery.",
        "Baseline: a bare `ws` server (same library, no auth, no database) in its own process, the same 1,000 sockets cut into groups of the same size, sends a real delivered message (the sync server's, with the stamp in the op value, stamped just before the send loop) at the same rate, each message to one group in turn.",
        "Second baseline (the 250 x 4 shape): insert + commit + send — the same bare `ws` server first INSERTs the op (one row, autocommit, raw `pg` pool of 8) into a copy of sync_op's columns, defaults and indexes without its foreign keys, then sends the message to the group; stamped just before the INSERT, like the sync figure's created_at. No auth, no tRPC, no lock, no idempotency. Its targets are ratios: p50 <= 1.5x, p99 <= 2.5x.",
        ...measured,
        "Clients and receipt times are in the bench process for both; all stamps are the machine's wall clock (performance.timeOrigin + now()).",
      ],
    };
  },
};
