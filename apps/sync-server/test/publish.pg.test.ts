import { randomUUID } from "node:crypto";
import { type Bus, createRedisBus, type OpsEvent } from "@chorus/api";
import type { SyncOp } from "@chorus/protocol";
import { waitUntil } from "@chorus/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENEROUS_LIMITS, Harness, makeOps, type TestDevice } from "./harness.js";

/*
 * The fan-out after a push committed, over a real Redis bus whose publishing fails on demand.
 * Needs Redis: TEST_REDIS_URL, default redis://127.0.0.1:6379.
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const PREFIX = `chorus-test-${randomUUID()}`;

/** What the next publishes do: go through, throw (Redis refused), or vanish (a crash). */
type Fault = "throw" | "drop";

let redisBus: Bus;
const faults: Fault[] = [];
let h: Harness;
let admin: Redis;
beforeAll(async () => {
  redisBus = await createRedisBus({ url: REDIS_URL, prefix: PREFIX });
  const bus: Bus = {
    ...redisBus,
    async publishOps(event: OpsEvent) {
      const fault = faults.shift();
      if (fault === "throw") throw new Error("Redis refused the publish (injected)");
      if (fault === "drop") return; // committed, then the process died before publishing
      await redisBus.publishOps(event);
    },
  };
  h = await Harness.start({ rateLimits: GENEROUS_LIMITS, bus });
  admin = new Redis(REDIS_URL);
});
afterAll(async () => {
  await h?.close();
  await redisBus?.close();
  admin?.disconnect();
});

/** A live subscriber of the device's user, from lastEventId 0, started and caught up. */
async function follow(device: TestDevice) {
  const ws = device.ws();
  const received: SyncOp[] = [];
  let started = false;
  const sub = ws.client.sync.subscribe.subscribe(
    { lastEventId: 0 },
    {
      onStarted: () => {
        started = true;
      },
      onData: (event) => received.push(event.data),
    },
  );
  await waitUntil("started", () => started);
  // The subscription is live once a round trip on the same socket has come back.
  await ws.client.system.health.query();
  return {
    ids: () => received.map((op) => op.id),
    stop: async () => {
      sub.unsubscribe();
      await ws.close();
    },
  };
}

describe("publishing after a push committed", () => {
  it("a publish that throws does not fail the committed push, and subscribers still receive its ops", async () => {
    const writer = await h.createDevice();
    const reader = await h.createDevice(writer.userId);
    const stream = await follow(reader);
    faults.push("throw");
    const pushed = await writer.http.sync.push.mutate({ ops: makeOps(3, 0) });
    expect(pushed.results.map((r) => r.duplicate)).toEqual([false, false, false]);
    await waitUntil("stream.ids().length === 3", () => stream.ids().length === 3);
    expect(stream.ids()).toEqual(pushed.results.map((r) => r.id));
    await stream.stop();
  });

  it("a push of duplicates only (the retry of a push never fanned out) nudges subscribers", async () => {
    const writer = await h.createDevice();
    const reader = await h.createDevice(writer.userId);
    const stream = await follow(reader);
    const ops = makeOps(2, 0);
    faults.push("drop");
    const first = await writer.http.sync.push.mutate({ ops });
    // The device never heard the answer and retries: every op is a duplicate.
    const retry = await writer.http.sync.push.mutate({ ops });
    expect(retry.results.every((r) => r.duplicate)).toBe(true);
    await waitUntil("stream.ids().length === 2", () => stream.ids().length === 2);
    expect(stream.ids()).toEqual(first.results.map((r) => r.id));
    await stream.stop();
  });

  it("after the bus reconnects, subscribers re-check the database for what they missed", async () => {
    const writer = await h.createDevice();
    const reader = await h.createDevice(writer.userId);
    const stream = await follow(reader);
    faults.push("drop");
    const lost = await writer.http.sync.push.mutate({ ops: makeOps(2, 0) });
    // Cut this bus's subscriber connection (found by its name); ioredis reconnects.
    const clients = String(await admin.client("LIST")).split("\n");
    const ours = clients.filter((line) => line.includes(`name=${PREFIX}:sub:`));
    expect(ours).toHaveLength(1);
    const id = /\bid=(\d+)/.exec(ours[0] as string)?.[1];
    await admin.client("KILL", "ID", id as string);
    await waitUntil("stream.ids().length === 2", () => stream.ids().length === 2);
    expect(stream.ids()).toEqual(lost.results.map((r) => r.id));
    await stream.stop();
  });
});
