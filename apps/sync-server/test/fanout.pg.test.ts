import { randomUUID } from "node:crypto";
import type { SyncOp } from "@chorus/protocol";
import { sleep, waitUntil } from "@chorus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebSocket as NodeWebSocket } from "ws";
import { CLOSE_DEVICE_REVOKED } from "../src/server.js";
import { GENEROUS_LIMITS, Harness, makeOps, type TestDevice } from "./harness.js";

// The server's own fan-out (packages/api/src/sync/fanout.ts): a user's live ops are encoded
// once and written to every subscribed socket of the user, bypassing each subscription's
// generator. What a client sees must be what tRPC's subscription sent before.

let h: Harness;
beforeAll(async () => {
  h = await Harness.start({ rateLimits: GENEROUS_LIMITS, slowConsumerBytes: 256 * 1024 });
});
afterAll(async () => {
  await h.close();
});

/** One socket of a device with `count` subscriptions on it, each collecting what it gets. */
function follow(device: TestDevice, count = 1) {
  const ws = device.ws();
  const streams = Array.from({ length: count }, () => {
    const received: SyncOp[] = [];
    const sub = ws.client.sync.subscribe.subscribe(
      { lastEventId: 0 },
      {
        onData: (event) => {
          expect(event.id).toBe(String(event.data.id));
          received.push(event.data);
        },
      },
    );
    return { received, ids: () => received.map((op) => op.id), sub };
  });
  return { ws, streams };
}

const live = (userId: string) => h.server.services.fanout.subscribersOf(userId).live;

describe("the server's fan-out", () => {
  it("a user's sockets each get every op exactly once and in order, several subscriptions on one socket too", async () => {
    const writerA = await h.createDevice();
    const writerB = await h.createDevice(writerA.userId);
    const first = follow(await h.createDevice(writerA.userId));
    // Two subscriptions on one socket: two subscription ids, so two different frames per op.
    const second = follow(await h.createDevice(writerA.userId), 2);
    await waitUntil("three live subscriptions", () => live(writerA.userId) === 3);

    // Two writers at once: batches interleave, and some arrive out of order (a gap).
    const pushed: number[] = [];
    await Promise.all(
      [writerA, writerB].map(async (writer) => {
        for (let batch = 0; batch < 15; batch++) {
          const answer = await writer.http.sync.push.mutate({ ops: makeOps(3, batch * 3) });
          pushed.push(...answer.results.map((r) => r.id));
        }
      }),
    );
    // Anything extra (an op sent twice) would arrive before a later op: wait for one.
    const marker = await writerA.http.sync.push.mutate({ ops: makeOps(1, 1_000) });
    pushed.push(marker.maxId);
    const expected = [...pushed].sort((a, b) => a - b);
    const streams = [...first.streams, ...second.streams];
    for (const [index, stream] of streams.entries()) {
      await waitUntil(`stream ${index} has the marker`, () => stream.ids().includes(marker.maxId));
      expect(stream.ids()).toEqual(expected);
    }
    for (const stream of streams) stream.sub.unsubscribe();
    await waitUntil(
      "no subscriptions left",
      () => h.server.services.fanout.subscribersOf(writerA.userId).registered === 0,
    );
  });

  it("a revoked device's socket stops receiving; the user's other socket goes on", async () => {
    const writer = await h.createDevice();
    const revoked = await h.createDevice(writer.userId);
    const kept = await h.createDevice(writer.userId);
    const gone = follow(revoked);
    const stays = follow(kept);
    await waitUntil("two live subscriptions", () => live(writer.userId) === 2);
    const before = await writer.http.sync.push.mutate({ ops: makeOps(2, 0) });
    await waitUntil("both have the first ops", () =>
      [gone, stays].every((f) => f.streams[0]?.ids().includes(before.maxId)),
    );

    const closes: number[] = [];
    gone.ws.raw.connection?.ws?.addEventListener("close", (event) => closes.push(event.code));
    await writer.http.devices.revoke.mutate({ deviceId: revoked.deviceId });
    await waitUntil("the revoked socket is closed", () => closes.length > 0);
    expect(closes[0]).toBe(CLOSE_DEVICE_REVOKED);
    await waitUntil("only the kept subscription is registered", () => {
      const { registered } = h.server.services.fanout.subscribersOf(writer.userId);
      return registered === 1;
    });

    const after = await writer.http.sync.push.mutate({ ops: makeOps(3, 2) });
    await waitUntil(
      "the kept socket has the later ops",
      () => stays.streams[0]?.ids().includes(after.maxId) ?? false,
    );
    expect(gone.streams[0]?.ids()).toEqual(before.results.map((r) => r.id));
    expect(stays.streams[0]?.ids()).toEqual([...before.results, ...after.results].map((r) => r.id));
    stays.streams[0]?.sub.unsubscribe();
  });

  it("a socket that stops reading is dropped as a slow consumer; the user's other socket is not held back", async () => {
    const writer = await h.createDevice();
    const slow = follow(await h.createDevice(writer.userId));
    const fast = follow(await h.createDevice(writer.userId));
    await waitUntil("two live subscriptions", () => live(writer.userId) === 2);
    const socket = slow.ws.raw.connection?.ws as unknown as NodeWebSocket & {
      _socket: { pause(): void; resume(): void };
    };
    const closes: number[] = [];
    socket.on("close", (code) => closes.push(code));
    socket._socket.pause();

    const payload = "p".repeat(60 * 1024);
    let lamport = 0;
    const pushed: number[] = [];
    for (let batch = 0; batch < 120 && closes.length === 0; batch++) {
      const ops = Array.from({ length: 8 }, () => ({
        operationId: randomUUID(),
        lamportTs: ++lamport,
        entity: "track",
        entityId: randomUUID(),
        field: "notes",
        op: "set" as const,
        value: payload,
      }));
      const answer = await writer.http.sync.push.mutate({ ops });
      pushed.push(...answer.results.map((r) => r.id));
      if (batch % 10 === 9) {
        socket._socket.resume(); // let a close frame through, if the server sent one
        await sleep(50); // pacing only: the wait for the close is below
        socket._socket.pause();
      }
    }
    socket._socket.resume();
    await waitUntil("the slow socket is closed", () => closes.length > 0);
    expect(closes[0]).toBe(4008);
    // The fast socket kept up meanwhile, and the slow one resumes by lastEventId.
    await waitUntil(
      "the fast socket has every op",
      () => fast.streams[0]?.ids().length === pushed.length,
    );
    expect(fast.streams[0]?.ids()).toEqual(pushed);
    await waitUntil(
      "the slow socket has every op",
      () => slow.streams[0]?.ids().length === pushed.length,
    );
    expect(slow.streams[0]?.ids()).toEqual(pushed);
    for (const f of [slow, fast]) f.streams[0]?.sub.unsubscribe();
  });
});
