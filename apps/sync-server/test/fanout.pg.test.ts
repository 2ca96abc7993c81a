import { pushOps } from "@chorus/api";
import type { SyncOp } from "@chorus/protocol";
import { waitUntil } from "@chorus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import NodeWebSocket from "ws";
import { GENEROUS_LIMITS, Harness, makeOps, type TestDevice } from "./harness.js";

/*
 * The server's own fan-out (packages/api/src/sync/fanout.ts): once a subscription has caught
 * up it is handed to the fan-out and tRPC's generator returns. What a client sees must not
 * change: no "stopped" for the hand-off, live ops in order, "stopped" when it stops, and the
 * server keeps nothing of a subscription whose socket or client ended it.
 */

let h: Harness;
beforeAll(async () => {
  h = await Harness.start({
    rateLimits: GENEROUS_LIMITS,
    connections: { pingMs: 300, pongWaitMs: 300 },
  });
});
afterAll(async () => {
  await h.close();
});

function follow(device: TestDevice, lastEventId?: number) {
  const ws = device.ws();
  const received: SyncOp[] = [];
  let completed = false;
  const sub = ws.client.sync.subscribe.subscribe(lastEventId === undefined ? {} : { lastEventId }, {
    onData: (event) => {
      expect(event.id).toBe(String(event.data.id));
      received.push(event.data);
    },
    onComplete: () => {
      completed = true;
    },
  });
  return {
    received,
    completed: () => completed,
    ids: () => received.map((op) => op.id),
    unsubscribe: () => sub.unsubscribe(),
    close: () => ws.close(),
  };
}

/** A raw socket speaking tRPC's protocol, to see every message the server sends. */
async function rawSocket(device: TestDevice, answerPings = true) {
  const ws = new NodeWebSocket(`ws://${h.base}/trpc?connectionParams=1`);
  const messages: string[] = [];
  ws.on("message", (data) => {
    const text = data.toString();
    if (text === "PING" && answerPings) ws.send("PONG");
    messages.push(text);
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  ws.send(JSON.stringify({ method: "connectionParams", data: { token: device.token } }));
  return { ws, messages };
}

describe("fan-out", () => {
  it("a handed-off subscription goes on: no stopped, live ops in order, nothing kept after its socket", async () => {
    const writer = await h.createDevice();
    const readers = await Promise.all([1, 2, 3].map(() => h.createDevice(writer.userId)));
    const first = await writer.http.sync.push.mutate({ ops: makeOps(2, 0) });
    const streams = readers.map((reader) => follow(reader, 0));
    await waitUntil("every reader has the backfill", () =>
      streams.every((stream) => stream.received.length === 2),
    );
    await waitUntil(
      "every subscription handed off",
      () => h.server.services.fanout.subscribersOf(writer.userId).live === 3,
    );
    const live = await writer.http.sync.push.mutate({ ops: makeOps(3, 2) });
    await waitUntil("every reader has the live ops", () =>
      streams.every((stream) => stream.received.length === 5),
    );
    const expected = [...first.results, ...live.results].map((result) => result.id);
    for (const stream of streams) {
      expect(stream.ids()).toEqual(expected);
      expect(stream.completed()).toBe(false);
    }
    for (const stream of streams) await stream.close();
    await waitUntil(
      "nothing kept of closed sockets' subscriptions",
      () => h.server.services.fanout.subscribersOf(writer.userId).registered === 0,
    );
  });

  it("the client's subscription.stop of a handed-off subscription is answered stopped and ends it", async () => {
    const device = await h.createDevice();
    const { ws, messages } = await rawSocket(device);
    ws.send(
      JSON.stringify({
        id: 7,
        jsonrpc: "2.0",
        method: "subscription",
        params: { path: "sync.subscribe", input: { lastEventId: 0 } },
      }),
    );
    await waitUntil(
      "handed off",
      () => h.server.services.fanout.subscribersOf(device.userId).live === 1,
    );
    expect(messages).toContain('{"id":7,"jsonrpc":"2.0","result":{"type":"started"}}');
    expect(messages.filter((m) => m.includes('"stopped"'))).toEqual([]);
    const pushed = await device.http.sync.push.mutate({ ops: makeOps(1, 0) });
    await waitUntil("the live op", () =>
      messages.some((m) => m.includes(`"id":"${pushed.maxId}"`)),
    );
    ws.send(JSON.stringify({ id: 7, jsonrpc: "2.0", method: "subscription.stop" }));
    await waitUntil("stopped", () =>
      messages.includes('{"id":7,"jsonrpc":"2.0","result":{"type":"stopped"}}'),
    );
    expect(h.server.services.fanout.subscribersOf(device.userId).registered).toBe(0);
    // The socket stays usable, and the subscription's slot on it was released.
    ws.send(
      JSON.stringify({
        id: 8,
        method: "subscription",
        params: { path: "sync.subscribe", input: { lastEventId: pushed.maxId } },
      }),
    );
    await waitUntil(
      "subscribed again",
      () => h.server.services.fanout.subscribersOf(device.userId).live === 1,
    );
    ws.close();
    await waitUntil(
      "gone with its socket",
      () => h.server.services.fanout.subscribersOf(device.userId).registered === 0,
    );
  });

  it("a gap in the live stream is read from the database, in order and without duplicates", async () => {
    const writer = await h.createDevice();
    const reader = await h.createDevice(writer.userId);
    const stream = follow(reader, 0);
    await waitUntil(
      "handed off",
      () => h.server.services.fanout.subscribersOf(writer.userId).live === 1,
    );
    // Ops committed without being published (as when a publish is lost), then a nudge.
    const silent = await pushOps(h.prisma, writer.userId, writer.deviceId, makeOps(3, 0));
    await h.server.services.bus.publishOps({
      userId: writer.userId,
      afterId: Number.MAX_SAFE_INTEGER,
      ops: [],
    });
    const live = await writer.http.sync.push.mutate({ ops: makeOps(2, 3) });
    await waitUntil("every op", () => stream.received.length === 5);
    expect(stream.ids()).toEqual([...silent.results, ...live.results].map((result) => result.id));
    await stream.close();
  });

  it("a socket that does not answer the keep-alive PING is terminated", async () => {
    const device = await h.createDevice();
    const { ws, messages } = await rawSocket(device, false);
    const closed = new Promise<number>((resolve) => ws.once("close", resolve));
    await waitUntil("pinged", () => messages.includes("PING"));
    expect(await closed).toBe(1006);
  });

  it("a PONG that arrived while the server was stalled keeps the socket open", async () => {
    const device = await h.createDevice();
    const { ws, messages } = await rawSocket(device, false);
    let stalled = false;
    ws.on("message", (data) => {
      if (data.toString() !== "PING") return;
      ws.send("PONG");
      if (stalled) return;
      stalled = true;
      // Block this process (the server's too) past pongWaitMs, the answer already written:
      // when the loop comes back its timers run before it reads the PONG.
      const until = Date.now() + 1_000;
      while (Date.now() < until) {
        // a stalled event loop (a long GC, a starved CPU)
      }
    });
    let closed = false;
    ws.once("close", () => {
      closed = true;
    });
    await waitUntil(
      "pinged three times, or closed",
      () => closed || messages.filter((m) => m === "PING").length >= 3,
    );
    expect(ws.readyState).toBe(NodeWebSocket.OPEN);
    ws.close();
  });

  it("a socket that answers the keep-alive PING stays open", async () => {
    const device = await h.createDevice();
    const { ws, messages } = await rawSocket(device, true);
    await waitUntil("pinged three times", () => messages.filter((m) => m === "PING").length >= 3);
    expect(ws.readyState).toBe(NodeWebSocket.OPEN);
    ws.close();
  });
});
