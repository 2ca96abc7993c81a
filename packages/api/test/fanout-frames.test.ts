import type { SyncOp } from "@chorus/protocol";
import { describe, expect, it } from "vitest";
import { FANOUT_BIND, Frames, Subscriber } from "../src/sync/fanout.js";

// The fan-out writes its own frames in place of tRPC's subscription messages: they must be
// byte for byte what tRPC's WebSocket adapter sends for `tracked(String(op.id), op)`.

/** The message tRPC's adapter builds for a tracked value, encoded as its jsonEncoder does. */
function trpcMessage(id: number | string, jsonrpc: "2.0" | undefined, op: SyncOp): string {
  const tracked = String(op.id);
  return JSON.stringify({
    id,
    jsonrpc,
    result: { type: "data", data: { id: tracked, data: op }, id: tracked },
  });
}

const ops: SyncOp[] = [
  {
    id: 42,
    deviceId: "0b8f2c4e-1d7a-4c3e-9f6a-2e5b8d1c7a90",
    operationId: "6f1c2a8e-6a55-4b8e-9b8f-3f1b1d8f0c11",
    lamportTs: 7,
    entity: "playlist",
    entityId: "p1",
    field: "name",
    op: "set",
    value: { text: 'Ünïcödé \u2028 "quoted" 日本語', list: [1, null, true] },
    createdAt: "2026-12-01T02:00:00.000Z",
  },
  {
    id: 9_007_199_254_740_000,
    deviceId: "0b8f2c4e-1d7a-4c3e-9f6a-2e5b8d1c7a90",
    operationId: "7a2d3b9f-7b66-4c9f-8c90-4a2c2e9f1d22",
    lamportTs: 8,
    entity: "track",
    entityId: "t1",
    field: null,
    op: "delete",
    value: null,
    createdAt: "2026-12-01T02:00:01.000Z",
  },
];

describe("the fan-out's frames", () => {
  it("are exactly tRPC's messages, for every subscription id and with or without jsonrpc", () => {
    const frames = new Frames(ops);
    for (const [id, jsonrpc] of [
      [1, undefined],
      ["7", "2.0"],
      [123456, "2.0"],
      ['quote"d', undefined],
    ] as const) {
      const subscriber = new Subscriber(null as never, null as never, null as never, 0);
      subscriber[FANOUT_BIND](id, jsonrpc);
      for (const [index, op] of ops.entries()) {
        const frame = frames.frame(subscriber.prefix as string, index).toString("utf8");
        expect(frame).toBe(trpcMessage(id, jsonrpc, op));
      }
    }
  });
});
