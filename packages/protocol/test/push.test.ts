import { describe, expect, it } from "vitest";
import {
  MAX_BATCH_BYTES,
  MAX_OPS_PER_BATCH,
  MAX_VALUE_BYTES,
  PushInput,
  PushResult,
} from "../src/index.js";
import { messagesOf, opInput, uuid } from "./fixtures.js";

function batch(count: number, value = "x") {
  return Array.from({ length: count }, (_, index) => opInput({ lamportTs: index + 1, value }));
}

describe("PushInput", () => {
  it("accepts a batch of MAX_OPS_PER_BATCH ops with increasing lamportTs", () => {
    expect(PushInput.safeParse({ ops: batch(MAX_OPS_PER_BATCH) }).success).toBe(true);
  });

  it("refuses an empty batch and one op too many", () => {
    expect(messagesOf(PushInput.safeParse({ ops: [] }))).toEqual(["a push needs at least one op"]);
    expect(messagesOf(PushInput.safeParse({ ops: batch(MAX_OPS_PER_BATCH + 1) }))).toEqual([
      `a push carries at most ${MAX_OPS_PER_BATCH} ops (MAX_OPS_PER_BATCH); send the rest in another batch`,
    ]);
  });

  it("refuses a repeated operationId and points at both ops", () => {
    const operationId = uuid();
    const ops = [
      opInput({ operationId, lamportTs: 1 }),
      opInput({ lamportTs: 2 }),
      opInput({ operationId, lamportTs: 3 }),
    ];
    const result = PushInput.safeParse({ ops });
    expect(messagesOf(result)).toEqual([
      `operationId ${operationId} repeats ops[0]; every op in a batch needs its own operationId`,
    ]);
    expect(result.error?.issues[0]?.path).toEqual(["ops", 2, "operationId"]);
  });

  it("refuses lamportTs that do not strictly increase within the batch", () => {
    const equal = [opInput({ lamportTs: 5 }), opInput({ lamportTs: 5 })];
    expect(messagesOf(PushInput.safeParse({ ops: equal }))).toEqual([
      "lamportTs must increase within a batch: ops[1] has 5 after 5",
    ]);
    const falling = [opInput({ lamportTs: 7 }), opInput({ lamportTs: 3 })];
    expect(PushInput.safeParse({ ops: falling }).success).toBe(false);
  });

  it("refuses a batch over MAX_BATCH_BYTES even when every value is within its own limit", () => {
    const nearMaxValue = "x".repeat(MAX_VALUE_BYTES - 100);
    const count = Math.ceil(MAX_BATCH_BYTES / MAX_VALUE_BYTES) + 1;
    const result = PushInput.safeParse({ ops: batch(count, nearMaxValue) });
    const messages = messagesOf(result);
    expect(messages).toHaveLength(1);
    // The server turns these into a payload_too_large sync error.
    expect(result.error?.issues[0]).toMatchObject({
      params: { limit: MAX_BATCH_BYTES, actual: expect.any(Number) },
    });
    expect(messages[0]).toMatch(
      new RegExp(`^the batch is \\d+ bytes as JSON, over the ${MAX_BATCH_BYTES}-byte limit`),
    );
  });

  it("reports the problems of each op with its index", () => {
    const ops = [opInput({ lamportTs: 1 }), opInput({ lamportTs: 2, entity: "Track" })];
    expect(PushInput.safeParse({ ops }).error?.issues[0]?.path).toEqual(["ops", 1, "entity"]);
  });
});

describe("PushResult", () => {
  it("accepts one result per op with ids and duplicate flags", () => {
    const result = {
      results: [
        { operationId: uuid(), id: 41, duplicate: true },
        { operationId: uuid(), id: 42, duplicate: false },
      ],
      maxId: 42,
    };
    expect(PushResult.parse(result)).toEqual(result);
  });

  it("refuses ids that are not positive safe integers", () => {
    const result = {
      results: [{ operationId: uuid(), id: 2 ** 60, duplicate: false }],
      maxId: 2 ** 60,
    };
    expect(PushResult.safeParse(result).success).toBe(false);
  });
});
