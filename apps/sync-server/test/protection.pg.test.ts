import { randomUUID } from "node:crypto";
import { parseSyncError } from "@chorus/protocol";
import { sleep, waitUntil } from "@chorus/testing";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket as NodeWebSocket } from "ws";
import { MAX_WS_PAYLOAD } from "../src/server.js";
import { GENEROUS_LIMITS, Harness, makeOps } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await Harness.start({ rateLimits: GENEROUS_LIMITS, slowConsumerBytes: 256 * 1024 });
});
afterAll(async () => {
  await h.close();
});

describe("rate limits", () => {
  it("answers a device over its budget with TOO_MANY_REQUESTS and a retry-after", async () => {
    const strict = await Harness.start({
      rateLimits: { ...GENEROUS_LIMITS, push: { points: 2, durationSeconds: 60 } },
    });
    try {
      const device = await strict.createDevice();
      await device.http.sync.push.mutate({ ops: makeOps(1, 0) });
      await device.http.sync.push.mutate({ ops: makeOps(1, 1) });
      const error = await device.http.sync.push
        .mutate({ ops: makeOps(1, 2) })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TRPCClientError);
      expect((error as TRPCClientError<never>).data).toMatchObject({
        code: "TOO_MANY_REQUESTS",
        httpStatus: 429,
      });
      const syncError = parseSyncError(error);
      expect(syncError?.type).toBe("rate_limited");
      expect(syncError?.type === "rate_limited" && syncError.retryAfterMs).toBeGreaterThan(50_000);
      expect(await strict.opCount(device.userId)).toBe(2);

      // The budget is per device: another device of the same user is not held back.
      const other = await strict.createDevice(device.userId);
      await other.http.sync.push.mutate({ ops: makeOps(1, 0) });
    } finally {
      await strict.close();
    }
  });
});

describe("metrics", () => {
  it("exposes pushes, duplicates, conflicts, deliveries, sockets and the ACK buffer", async () => {
    const device = await h.createDevice();
    const ops = makeOps(3, 0);
    await device.http.sync.push.mutate({ ops });
    await device.http.sync.push.mutate({ ops });
    await device.http.sync.push.mutate({ ops: makeOps(1, 1) }).catch(() => undefined);
    await device.http.sync.ack.mutate({ lastSeenId: 1 }).catch(() => undefined);
    const text = await (await fetch(`http://${h.base}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
    expect(value("chorus_ops_pushed_total")).toBeGreaterThanOrEqual(3);
    expect(value("chorus_ops_duplicate_total")).toBeGreaterThanOrEqual(3);
    expect(value("chorus_push_conflicts_total")).toBeGreaterThanOrEqual(1);
    for (const name of [
      "chorus_fanout_deliveries_total",
      "chorus_open_sockets",
      "chorus_ack_buffer_size",
      "chorus_ack_flush_lag_seconds",
    ]) {
      expect(value(name), name).not.toBeNaN();
    }
  });
});

describe("socket protection", () => {
  it(`closes a socket that sends a frame over ${MAX_WS_PAYLOAD} bytes (1009)`, async () => {
    const ws = new NodeWebSocket(`ws://${h.base}/trpc`);
    await new Promise((resolve) => ws.once("open", resolve));
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.send("x".repeat(MAX_WS_PAYLOAD + 1));
    expect(await closed).toBe(1009);
  });

  it("drops a subscriber that stops reading; it resumes by lastEventId with nothing lost", async () => {
    const writer = await h.createDevice();
    const reader = await h.createDevice(writer.userId);
    const ws = reader.ws();
    const received: number[] = [];
    const sub = ws.client.sync.subscribe.subscribe(
      { lastEventId: 0 },
      { onData: (event) => received.push(event.data.id) },
    );
    await ws.client.system.health.query();
    const socket = ws.raw.connection?.ws as unknown as NodeWebSocket & {
      _socket: { pause(): void; resume(): void };
    };
    const closes: number[] = [];
    socket.on("close", (code) => closes.push(code));
    socket._socket.pause(); // the device stops reading; the server's send buffer grows

    // ~60 KiB values: the kernel's loopback buffers fill, then the server's socket buffer.
    const payload = "p".repeat(60 * 1024);
    let lamport = 0;
    let pushed = 0;
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
      await writer.http.sync.push.mutate({ ops });
      pushed += ops.length;
      if (batch % 10 === 9) {
        socket._socket.resume(); // let a close frame through, if the server sent one
        await sleep(50); // pacing only: the wait for the close is below
        socket._socket.pause();
      }
    }
    socket._socket.resume();
    await waitUntil("closes.length > 0", () => closes.length > 0);
    expect(closes[0]).toBe(4008);
    // wsLink reconnects by itself and resubscribes from the last id it got.
    await waitUntil("received.length === pushed", () => received.length === pushed);
    expect(new Set(received).size).toBe(pushed);
    expect(received).toEqual([...received].sort((a, b) => a - b));
    sub.unsubscribe();
  });
});
