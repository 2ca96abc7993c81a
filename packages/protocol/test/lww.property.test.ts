import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyOp,
  compactionSurvivors,
  createLwwState,
  type LwwOp,
  materialize,
  viewState,
} from "../src/index.js";

/*
 * Small domains on purpose: few entities, fields, devices and timestamps, so generated ops
 * collide on the same registers and deletes race with writes.
 */
const devices = [
  "11111111-1111-4111-8111-111111111111",
  "22222222-2222-4222-8222-222222222222",
  "33333333-3333-4333-8333-333333333333",
];
const fieldNames = ["title", "rating", "position"];

const value = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -5, max: 5 }),
  fc.string({ maxLength: 3 }),
  fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
);

const lwwOp: fc.Arbitrary<LwwOp> = fc
  .record({
    operationId: fc.uuid({ version: 4 }),
    lamportTs: fc.integer({ min: 1, max: 20 }),
    deviceId: fc.constantFrom(...devices),
    entity: fc.constantFrom("track", "playlist"),
    entityId: fc.constantFrom("e1", "e2"),
    kind: fc.constantFrom("set", "set", "insert", "insert-fields", "delete", "noop"),
    field: fc.constantFrom(...fieldNames),
    value,
    initialFields: fc.dictionary(fc.constantFrom(...fieldNames), value, { maxKeys: 3 }),
  })
  .map(({ kind, field, value, initialFields, ...rest }): LwwOp => {
    switch (kind) {
      case "set":
      case "insert":
        return { ...rest, op: kind, field, value };
      case "insert-fields":
        return { ...rest, op: "insert", field: null, value: initialFields };
      default:
        return { ...rest, op: kind === "delete" ? "delete" : "noop", field: null, value: null };
    }
  });

/** A user's op log: (lamportTs, deviceId) is unique per op, as the server enforces. */
const opLog = fc.uniqueArray(lwwOp, {
  maxLength: 50,
  size: "medium",
  selector: (op) => `${op.lamportTs}/${op.deviceId}`,
});

/** The log, and the same ops shuffled with some delivered more than once. */
const logAndRedelivery = opLog.chain((ops) =>
  fc.tuple(
    fc.constant(ops),
    fc.tuple(fc.constant(ops), fc.subarray(ops)).chain(([all, repeats]) =>
      fc.shuffledSubarray([...all, ...repeats], {
        minLength: all.length + repeats.length,
        maxLength: all.length + repeats.length,
      }),
    ),
  ),
);

describe("LWW is order-independent", () => {
  it("materializes any permutation of the ops, with duplicates, to the same state", () => {
    fc.assert(
      fc.property(logAndRedelivery, ([ops, redelivered]) => {
        expect(materialize(redelivered)).toEqual(materialize(ops));
      }),
      { numRuns: 500 },
    );
  });

  it("gives the same state whether ops are applied one by one in batches or all at once", () => {
    fc.assert(
      fc.property(logAndRedelivery, fc.nat(), ([ops, redelivered], cut) => {
        const state = createLwwState();
        const split = redelivered.length === 0 ? 0 : cut % redelivered.length;
        for (const op of redelivered.slice(split)) applyOp(state, op);
        for (const op of redelivered.slice(0, split)) applyOp(state, op);
        expect(viewState(state)).toEqual(materialize(ops));
      }),
      { numRuns: 200 },
    );
  });
});

describe("compaction preserves the state", () => {
  it("keeps the state of any compacted prefix followed by any later ops", () => {
    fc.assert(
      fc.property(opLog, fc.nat(), (ops, cut) => {
        const watermark = ops.length === 0 ? 0 : cut % (ops.length + 1);
        const compacted = [
          ...compactionSurvivors(ops.slice(0, watermark)),
          ...ops.slice(watermark),
        ];
        expect(materialize(compacted)).toEqual(materialize(ops));
      }),
      { numRuns: 500 },
    );
  });

  it("keeps at most a tombstone, a newest write and one write per field of each entity", () => {
    fc.assert(
      fc.property(opLog, (ops) => {
        const survivors = compactionSurvivors(ops);
        const entities = new Set(ops.map((op) => `${op.entity}/${op.entityId}`));
        expect(survivors.length).toBeLessThanOrEqual(entities.size * (2 + fieldNames.length));
        expect(compactionSurvivors(survivors)).toEqual(survivors);
      }),
      { numRuns: 300 },
    );
  });
});
