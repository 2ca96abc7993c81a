import { randomUUID } from "node:crypto";
import { waitUntil } from "@chorus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeOps } from "./harness.js";
import {
  httpClient as http,
  type ServerProcess,
  useProcessBed,
  wsClient as ws,
} from "./processes.js";

/*
 * Two sync-server replicas, each a real process (`src/main.ts`), sharing one Postgres and one
 * Redis. Needs Redis: TEST_REDIS_URL, default redis://127.0.0.1:6379 (.ci/run starts one).
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const redis = {
  REDIS_URL,
  REDIS_PREFIX: `chorus-test-${randomUUID()}`,
  ACK_FLUSH_INTERVAL_MS: "60000",
};

const suite = useProcessBed();

describe("two replicas over Redis", () => {
  it("fan-out, presence, the ACK barrier and fail-over work across replicas", async () => {
    const one = await suite.bed.server(redis);
    const two = await suite.bed.server(redis);

    // Device A on replica 1 pushes; device B, subscribed on replica 2, receives.
    const userId = await suite.bed.user();
    const a = await suite.bed.device(userId);
    const b = await suite.bed.device(userId);
    const bOnTwo = ws(() => two, b.token);
    const received: number[] = [];
    const sub = bOnTwo.client.sync.subscribe.subscribe(
      { lastEventId: 0 },
      { onData: (event) => received.push(event.data.id) },
    );
    await bOnTwo.client.system.health.query();
    const first = await http(one, a.token).sync.push.mutate({ ops: makeOps(5, 0, randomUUID()) });
    await waitUntil("received.length === 5", () => received.length === 5);
    expect(received).toEqual(first.results.map((r) => r.id));

    // Presence crosses replicas: replica 1 reports B (connected to replica 2) online.
    await waitUntil("replica 1 to report B online", async () => {
      const devices = await http(one, a.token).devices.list.query();
      return devices.find((d) => d.id === b.deviceId)?.online === true;
    });

    // An ACK buffered on replica 2 counts in a compaction run on replica 1.
    await http(one, a.token).sync.ack.mutate({ lastSeenId: first.maxId });
    await bOnTwo.client.sync.ack.mutate({ lastSeenId: first.results[3]?.id as number });
    const admin = await suite.bed.token(await suite.bed.user("admin"), "admin", "web");
    const run = await http(one, admin).admin.runCompaction.mutate({ userId });
    expect(run.outcome).toBe("succeeded");
    const watermark = await suite.bed.prisma.syncCompactionWatermark.findUniqueOrThrow({
      where: { userId },
    });
    // Without the barrier B's cursor would be missing on replica 1 (counted as 0): no raise.
    expect(Number(watermark.compactedUpTo)).toBe(first.results[3]?.id);

    // Replica 1 dies mid-traffic; its devices resume on replica 2 with nothing lost or doubled.
    const c = await suite.bed.device(userId);
    let target: ServerProcess = one;
    const cStream = ws(() => target, c.token);
    const cReceived: number[] = [];
    const cSub = cStream.client.sync.subscribe.subscribe(
      { lastEventId: first.maxId },
      { onData: (event) => cReceived.push(event.data.id) },
    );
    await cStream.client.system.health.query();
    const pushed: number[] = [];
    let lamport = 5;
    for (let i = 0; i < 30; i++) {
      if (i === 10) {
        await one.kill();
        target = two; // the load balancer sends reconnects to the survivor
      }
      const res = await http(i < 10 ? one : two, a.token).sync.push.mutate({
        ops: makeOps(2, lamport, randomUUID()),
      });
      lamport += 2;
      pushed.push(...res.results.map((r) => r.id));
    }
    await waitUntil("cReceived.length >= pushed.length", () => cReceived.length >= pushed.length);
    // Anything extra (an op twice) would arrive before a later op: wait for one on both streams.
    const marker = await http(two, a.token).sync.push.mutate({
      ops: makeOps(1, lamport, randomUUID()),
    });
    await waitUntil(
      "the marker op on both streams",
      () => cReceived.includes(marker.maxId) && received.includes(marker.maxId),
    );
    expect(cReceived).toEqual([...pushed, marker.maxId]);
    expect(received.slice(5)).toEqual([...pushed, marker.maxId]); // B on replica 2 saw everything once, too

    sub.unsubscribe();
    cSub.unsubscribe();
    await bOnTwo.raw.close();
    await cStream.raw.close();
  }, 120_000);
});
