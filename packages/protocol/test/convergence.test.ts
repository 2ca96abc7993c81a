// biome-ignore lint/correctness/noNodejsModules: the tests run on Node; the package itself takes the hash function from its caller.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AUDIT_BUCKETS,
  applyOp,
  auditBucket,
  auditDetailRow,
  auditRows,
  compactionSurvivors,
  createLwwState,
  digestAudit,
  firstDifference,
  type LwwOp,
} from "../src/index.js";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

const devices = [
  "11111111-1111-4111-8111-111111111111",
  "22222222-2222-4222-8222-222222222222",
  "AAAAAAAA-3333-4333-8333-333333333333",
];
const fieldNames = ["title", "rating", "position"];
const value = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -5, max: 5 }),
  fc.string({ maxLength: 3 }),
  fc.dictionary(fc.constantFrom("b", "a", "c"), fc.integer({ min: 0, max: 3 }), { maxKeys: 3 }),
);
const lwwOp: fc.Arbitrary<LwwOp> = fc
  .record({
    operationId: fc.uuid({ version: 4 }),
    lamportTs: fc.integer({ min: 1, max: 20 }),
    deviceId: fc.constantFrom(...devices),
    entity: fc.constantFrom("track", "playlist"),
    entityId: fc.constantFrom("e1", "e2", "e3"),
    kind: fc.constantFrom("set", "set", "insert-fields", "delete", "noop"),
    field: fc.constantFrom(...fieldNames),
    value,
    initialFields: fc.dictionary(fc.constantFrom(...fieldNames), value, { maxKeys: 3 }),
  })
  .map(({ kind, field, value, initialFields, ...rest }): LwwOp => {
    if (kind === "set") return { ...rest, op: "set", field, value };
    if (kind === "insert-fields")
      return { ...rest, op: "insert", field: null, value: initialFields };
    return { ...rest, op: kind === "delete" ? "delete" : "noop", field: null, value: null };
  });
const opLog = fc.uniqueArray(lwwOp, {
  maxLength: 40,
  selector: (op) => `${op.lamportTs}/${op.deviceId.toLowerCase()}`,
});

function digestOf(ops: readonly LwwOp[]) {
  const state = createLwwState();
  for (const op of ops) applyOp(state, op);
  return digestAudit(auditRows(state), sha256);
}

describe("the convergence audit's digest", () => {
  it("is the same for any order of the same ops, duplicates included", () => {
    fc.assert(
      fc.property(
        opLog.chain((ops) =>
          fc.tuple(
            fc.constant(ops),
            fc.shuffledSubarray([...ops, ...ops], { minLength: ops.length * 2 }),
          ),
        ),
        ([ops, shuffled]) => {
          expect(digestOf(shuffled)).toEqual(digestOf(ops));
        },
      ),
    );
  });

  it("is the same for compaction's survivors of a prefix plus the rest as for the whole log", () => {
    fc.assert(
      fc.property(opLog, fc.nat(), (ops, cut) => {
        const at = ops.length === 0 ? 0 : cut % (ops.length + 1);
        const compacted = [...compactionSurvivors(ops.slice(0, at)), ...ops.slice(at)];
        expect(digestOf(compacted)).toEqual(digestOf(ops));
      }),
    );
  });

  it("does not depend on the key order of object values (JSONB reorders keys)", () => {
    const op = (value: Record<string, number>): LwwOp => ({
      operationId: "0f0f0f0f-0000-4000-8000-000000000001",
      lamportTs: 3,
      deviceId: devices[0] as string,
      entity: "track",
      entityId: "e1",
      field: "meta",
      op: "set",
      value,
    });
    expect(digestOf([op({ b: 1, a: 2 })]).hash).toBe(digestOf([op({ a: 2, b: 1 })]).hash);
  });

  it("changes with a field's value, its stamp, or a deletion, and names the first difference", () => {
    const base: LwwOp[] = [
      {
        operationId: "0f0f0f0f-0000-4000-8000-000000000001",
        lamportTs: 1,
        deviceId: devices[0] as string,
        entity: "playlist",
        entityId: "p1",
        field: null,
        op: "insert",
        value: { name: "Road trip", rating: 3 },
      },
    ];
    const changed = (patch: Partial<LwwOp>): LwwOp[] => [{ ...(base[0] as LwwOp), ...patch }];
    const original = digestOf(base);
    const renamed = digestOf(changed({ value: { name: "Road trap", rating: 3 } }));
    expect(renamed.hash).not.toBe(original.hash);
    expect(digestOf(changed({ lamportTs: 2 })).hash).not.toBe(original.hash);
    expect(digestOf(changed({ deviceId: devices[1] as string })).hash).not.toBe(original.hash);
    const bucket = auditBucket("playlist", "p1");
    const differing = original.buckets.flatMap((d, i) => (d === renamed.buckets[i] ? [] : [i]));
    expect(differing).toEqual([bucket]);

    const rowsOf = (ops: LwwOp[]) => {
      const state = createLwwState();
      for (const op of ops) applyOp(state, op);
      return auditRows(state).map((row) => auditDetailRow(row, sha256));
    };
    expect(
      firstDifference(rowsOf(changed({ value: { name: "Road trap", rating: 3 } })), rowsOf(base)),
    ).toEqual({
      entity: "playlist",
      entityId: "p1",
      field: "name",
      device: { value: '"Road trap"', lamportTs: 1, deviceId: devices[0] },
      server: { value: '"Road trip"', lamportTs: 1, deviceId: devices[0] },
    });
    expect(firstDifference(rowsOf(base), rowsOf(base))).toBeNull();
    // A field only the server holds.
    expect(
      firstDifference(rowsOf(changed({ value: { name: "Road trip" } })), rowsOf(base)),
    ).toMatchObject({ field: "rating", device: null, server: { value: "3" } });
    expect(original.buckets).toHaveLength(AUDIT_BUCKETS);
  });
});
