import { randomBytes } from "node:crypto";
import { type ChildHandle, startChild } from "../children.js";
import { type BenchContext, CHILD_SYNC_SERVER, type Section } from "../context.js";
import { FanoutRig, type SubscriberGroup } from "../fanout-rig.js";
import { type BenchDevice, seedDevices } from "../fixtures.js";
import { createPushClient } from "../http-push.js";
import type { Progress } from "../progress.js";
import { pingRedis } from "../redis-check.js";
import type { Figure } from "../report.js";
import type { LatencySummary } from "../stats.js";

const PER_GROUP = 50;
const RATE = 20;
const PUSHES = 200;
const PUSHERS = 1;
const DRAIN_MS = 10_000;

interface Measured {
  send: LatencySummary;
  commit: LatencySummary;
}

/**
 * Subscribers of one user on the given servers (one group per server), pushes on `pushTo`:
 * every push reaches every group at the same moment, so the groups are compared under the
 * very same load.
 */
async function measureGroups(
  context: BenchContext,
  pushTo: ChildHandle,
  subscriberServers: { label: string; server: ChildHandle }[],
  progress: Progress,
): Promise<Measured[]> {
  const [devices] = await seedDevices(
    context.pool,
    context.key,
    1,
    PER_GROUP * subscriberServers.length + PUSHERS,
  );
  if (!devices) throw new Error("no devices seeded");
  const pushers = devices.slice(PER_GROUP * subscriberServers.length);
  const groups: SubscriberGroup[] = subscriberServers.map(({ label, server }, g) => ({
    label,
    url: `ws://127.0.0.1:${server.port}/trpc`,
    devices: devices.slice(g * PER_GROUP, (g + 1) * PER_GROUP),
  }));
  const client = createPushClient(pushTo.port, PUSHERS);
  let rig: FanoutRig | undefined;
  try {
    rig = await FanoutRig.connect(groups, PUSHES, progress);
    await rig.warmUp(client, [pushers[0] as BenchDevice], progress);
    await rig.pushAtRate(
      client,
      pushers,
      {
        rate: RATE,
        count: PUSHES,
        expectedDeliveries: PUSHES * PER_GROUP * groups.length,
        drainMs: DRAIN_MS,
      },
      progress,
    );
    return rig.groups.map((group) => ({
      send: group.send.summary(),
      commit: group.commit.summary(),
    }));
  } finally {
    rig?.close();
    client.close();
  }
}

const ms = (value: number) => `${value.toFixed(2)} ms`;

export const crossReplica: Section = {
  number: 6,
  title: "Cross-replica extra latency (Redis bus)",
  budgetMs: 120_000,
  async run(context, progress) {
    const unreachable = await pingRedis(context.redisUrl);
    if (unreachable) return { figures: [], notes: [], notMeasured: unreachable };
    const redis = {
      url: context.redisUrl,
      prefix: `chorus-bench-${process.pid}-${randomBytes(4).toString("hex")}`,
    };
    const config = { databaseUrl: context.databaseUrl, jwks: context.jwks, redis };

    progress.note("starting two replicas sharing Postgres and Redis");
    const [one, two] = await Promise.all([
      startChild("replica-1", CHILD_SYNC_SERVER, config),
      startChild("replica-2", CHILD_SYNC_SERVER, config),
    ]);
    let same: Measured;
    let cross: Measured;
    try {
      [same, cross] = (await measureGroups(
        context,
        one,
        [
          { label: "replica 1", server: one },
          { label: "replica 2", server: two },
        ],
        progress,
      )) as [Measured, Measured];
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }

    progress.note("reference: one server with the in-process bus, same load");
    const single = await startChild("sync-server", CHILD_SYNC_SERVER, {
      databaseUrl: context.databaseUrl,
      jwks: context.jwks,
    });
    let inProcess: Measured;
    try {
      [inProcess] = (await measureGroups(
        context,
        single,
        [{ label: "in-process", server: single }],
        progress,
      )) as [Measured];
    } finally {
      await single.stop();
    }

    const figures: Figure[] = [];
    for (const [name, pick] of [
      ["p50", (s: LatencySummary) => s.p50],
      ["p99", (s: LatencySummary) => s.p99],
    ] as const) {
      figures.push({
        name: `push on replica 1 -> subscriber on replica 2, ${name}`,
        unit: "ms",
        value: pick(cross.send),
        baselineName: "subscriber on replica 1, same pushes",
        baseline: pick(same.send),
        better: "lower",
      });
    }
    figures.push({
      name: "Redis bus, push and subscriber on one replica, p50",
      unit: "ms",
      value: same.send.p50,
      baselineName: "in-process bus, one server",
      baseline: inProcess.send.p50,
      better: "lower",
    });
    return {
      figures,
      notes: [
        `Two sync servers (createSyncServer with createRedisBus, channel prefix ${redis.prefix}) in their own processes over the same Postgres and Redis. ${PER_GROUP} devices of one user subscribe on replica 1 and ${PER_GROUP} on replica 2; ${PUSHERS} other devices push one op per push to replica 1 over HTTP at ${RATE}/s (${PUSHES} pushes). Every push reaches both groups at once, so they are compared under the same load.`,
        "Times are push request sent -> delivered (the stamp is in the op value, sub-millisecond): the HTTP push and the commit are the same for both groups, so the difference is what crossing replicas adds. (created_at-based figures have millisecond resolution, too coarse for this difference.)",
        `Extra latency of the other replica: p50 ${ms(cross.send.p50 - same.send.p50)}, p99 ${ms(cross.send.p99 - same.send.p99)}. Commit-to-delivery (created_at): replica 1 p50 ${ms(same.commit.p50)} / p99 ${ms(same.commit.p99)}, replica 2 p50 ${ms(cross.commit.p50)} / p99 ${ms(cross.commit.p99)}; deliveries ${same.send.count.toLocaleString("en-US")} + ${cross.send.count.toLocaleString("en-US")}.`,
        `Reference: one server with the in-process bus, ${PER_GROUP} subscribers, the same ${RATE} pushes/s: sent -> delivered p50 ${ms(inProcess.send.p50)}, p99 ${ms(inProcess.send.p99)} (a separate run, so less exactly comparable than the two replica groups).`,
      ],
    };
  },
};
