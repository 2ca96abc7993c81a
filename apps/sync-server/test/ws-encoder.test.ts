import { FANOUT_REGISTERED, Frames, Subscriber } from "@chorus/api";
import type { SyncOp } from "@chorus/protocol";
import { describe, expect, it } from "vitest";
import { createSharedValueEncoder } from "../src/ws-encoder.js";

/** A tracked subscription value as tRPC's ws adapter hands it to the encoder. */
function trackedMessage(id: number | string, trackedId: string, value: unknown, jsonrpc?: "2.0") {
  const result: { type: "data"; data: unknown; id?: string } = { type: "data", data: value };
  result.id = trackedId;
  result.data = { id: trackedId, data: value };
  return { id, jsonrpc, result };
}

describe("the shared-value WebSocket encoder", () => {
  const op = {
    id: 42,
    operationId: "6f1c2a8e-6a55-4b8e-9b8f-3f1b1d8f0c11",
    lamportTs: 7,
    entity: "playlist",
    entityId: "p1",
    field: "name",
    op: "set",
    value: { text: 'Ünïcödé \u2028 "quoted" 日本語', list: [1, null, true] },
    createdAt: "2026-12-01T02:00:00.000Z",
  };

  it("writes exactly what JSON.stringify writes, for tracked values and everything else", () => {
    const encoder = createSharedValueEncoder();
    const messages: unknown[] = [
      trackedMessage(1, "42", op),
      trackedMessage("7", "42", op, "2.0"),
      trackedMessage(3, "43", [1, 2, 3]),
      { id: 1, jsonrpc: undefined, result: { type: "started" } },
      { id: 2, jsonrpc: undefined, result: { type: "data", data: { results: [], maxId: 9 } } },
      {
        id: 3,
        jsonrpc: undefined,
        result: { type: "data", data: { id: "1", data: "text" }, id: "1" },
      },
      { id: 4, error: { message: "refused", code: -32600, data: { code: "BAD_REQUEST" } } },
      { id: null, error: { message: "parse error" } },
    ];
    for (const message of messages) {
      expect(encoder.encode(message)).toBe(JSON.stringify(message));
    }
  });

  it("encodes a value once however many sockets it reaches", () => {
    const encoder = createSharedValueEncoder();
    let encodings = 0;
    const value = {
      toJSON() {
        encodings += 1;
        return op;
      },
    };
    const first = encoder.encode(trackedMessage(1, "42", value));
    for (let socket = 2; socket <= 5; socket++) {
      const sent = encoder.encode(trackedMessage(socket, "42", value));
      expect(JSON.parse(String(sent))).toEqual({ ...JSON.parse(String(first)), id: socket });
    }
    expect(encodings).toBe(1);
  });

  it("reads what clients send as JSON", () => {
    const encoder = createSharedValueEncoder();
    expect(encoder.decode('{"id":1,"method":"mutation"}')).toEqual({ id: 1, method: "mutation" });
  });
});

describe("the fan-out's frames", () => {
  const op = {
    id: 9_007_199_254_740,
    operationId: "6f1c2a8e-6a55-4b8e-9b8f-3f1b1d8f0c11",
    lamportTs: 7,
    entity: "playlist",
    entityId: "p1",
    field: "name",
    op: "set",
    value: { text: 'Ünïcödé \u2028 "quoted"', list: [1, null, true] },
    createdAt: "2026-12-01T02:00:00.000Z",
  } as unknown as SyncOp;

  it("are byte for byte tRPC's message for the tracked op on the bound subscription", () => {
    const encoder = createSharedValueEncoder();
    for (const [id, jsonrpc] of [
      [1, undefined],
      ["sub-7", "2.0"],
      [2 ** 40, "2.0"],
    ] as const) {
      const subscriber = Object.create(Subscriber.prototype) as Subscriber;
      // The hand-off message: the encoder binds the Subscriber and sends nothing.
      expect(encoder.encode({ id, jsonrpc, result: { type: "data", data: subscriber } })).toBe(
        FANOUT_REGISTERED,
      );
      const frames = new Frames([op, { ...op, id: 1, value: null } as SyncOp]);
      for (const [index, value] of [op, { ...op, id: 1, value: null }].entries()) {
        expect(frames.frame(subscriber.prefix as string, index).toString()).toBe(
          JSON.stringify(trackedMessage(id, String(value.id), value, jsonrpc)),
        );
      }
    }
  });
});
