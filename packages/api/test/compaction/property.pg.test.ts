import { randomUUID } from "node:crypto";
import { compactionSurvivors, materialize, type OpInput, type SyncOp } from "@chorus/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compactUser, DAY_MS } from "../../src/compaction/compact-user.js";
import { ApiTestbed } from "../support.js";

let t: ApiTestbed;
beforeAll(async () => {
  t = await ApiTestbed.start();
});
afterAll(async () => {
  await t.close();
});

const ENTITIES = ["playlist", "track"] as const;
const IDS = ["a", "b", "c"] as const;
const FIELDS = ["name", "rank", "notes"] as const;

/**
 * An op drawn from a small space so writes collide: sets, inserts (of fields, of a whole
 * non-object value, of an empty object), deletes and noops.
 */
const arbOp = fc.record({
  device: fc.integer({ min: 0, max: 2 }),
  lamportStep: fc.integer({ min: 1, max: 3 }),
  entity: fc.constantFrom(...ENTITIES),
  entityId: fc.constantFrom(...IDS),
  kind: fc.constantFrom(
    "set",
    "set",
    "set",
    "delete",
    "insert",
    "insert-fields",
    "insert-whole",
    "insert-empty",
    "noop",
  ),
  field: fc.constantFrom(...FIELDS),
  value: fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.constant(null)),
});

type DrawnOp = typeof arbOp extends fc.Arbitrary<infer T> ? T : never;

function toInput(op: DrawnOp, lamportTs: number): OpInput {
  const base = {
    operationId: randomUUID(),
    lamportTs,
    entity: op.entity,
    entityId: op.entityId,
  };
  switch (op.kind) {
    case "delete":
      return { ...base, op: "delete", field: null, value: null };
    case "insert-fields":
      return { ...base, op: "insert", field: null, value: { [op.field]: op.value, name: "x" } };
    case "insert":
      return { ...base, op: "insert", field: op.field, value: op.value };
    // Writes that name no field: they count as the entity's newest write, but win no field.
    case "insert-whole":
      return { ...base, op: "insert", field: null, value: op.value };
    case "insert-empty":
      return { ...base, op: "insert", field: null, value: {} };
    case "noop":
      return { ...base, op: "noop", field: null, value: null };
    default:
      return { ...base, op: "set", field: op.field, value: op.value };
  }
}

const byId = (ops: SyncOp[]) => ops.map((op) => op.id);

describe("compaction preserves every reader's state", () => {
  it("for random logs and device positions, compacted and full logs materialize alike", async () => {
    let compactedSomething = false;
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbOp, { minLength: 20, maxLength: 120 }),
        // Where each device has read to, as a fraction of the log (mostly far along).
        fc.array(fc.double({ min: 0.3, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }),
        fc.integer({ min: 1, max: 40 }),
        async (drawn, positions, batchSize) => {
          const userId = await t.user();
          const devices = [await t.device(userId), await t.device(userId), await t.device(userId)];
          const clocks = [0, 0, 0];
          // Push in drawn order; each device's Lamport clock only goes up.
          for (const op of drawn) {
            clocks[op.device] = (clocks[op.device] ?? 0) + op.lamportStep;
            await t.push(userId, devices[op.device] as string, [
              toInput(op, clocks[op.device] as number),
            ]);
          }
          const full = await t.allOps(userId);
          // Each device has read some prefix of the log.
          for (const [i, deviceId] of devices.entries()) {
            const at = full[Math.floor((positions[i] ?? 0) * (full.length - 1))]?.id ?? 0;
            await t.storedCursor(userId, deviceId, at);
          }

          const result = await compactUser(t.prisma, t.acks, userId, {
            staleWindowMs: 90 * DAY_MS,
            batchSize,
            now: t.clock,
          });
          const watermark = result.watermarkAfter;
          const compacted = await t.allOps(userId);
          compactedSomething ||= compacted.length < full.length;

          // Nothing at or above the watermark was touched…
          expect(byId(compacted.filter((op) => op.id >= watermark))).toEqual(
            byId(full.filter((op) => op.id >= watermark)),
          );
          // …and below it exactly the LWW survivors remain (SQL agrees with the protocol).
          expect(byId(compacted.filter((op) => op.id < watermark))).toEqual(
            byId(compactionSurvivors(full.filter((op) => op.id < watermark))),
          );
          // A reader starting from scratch ends where the full log would have taken it…
          expect(materialize(compacted)).toEqual(materialize(full));
          // …and so does every reader at or past MIN that continues from where it is.
          for (const op of full.filter((o) => o.id >= watermark)) {
            const seen = full.filter((o) => o.id <= op.id);
            const rest = compacted.filter((o) => o.id > op.id);
            expect(materialize([...seen, ...rest])).toEqual(materialize(full));
          }
        },
      ),
      { numRuns: 30 },
    );
    expect(compactedSomething, "the generated logs must exercise deletion").toBe(true);
  });
});

describe("each field's winner survives", () => {
  const set = (lamportTs: number, entityId: string, field: string, value: string): OpInput => ({
    operationId: randomUUID(),
    lamportTs,
    entity: "track",
    entityId,
    field,
    op: "set",
    value,
  });

  it("when two devices wrote a field at the same Lamport timestamp, and a later op has an older one", async () => {
    const userId = await t.user();
    const [a, b, c] = [await t.device(userId), await t.device(userId), await t.device(userId)];
    // Same field: a and b tie at Lamport 10 (the device id breaks the tie); c writes after
    // them in the log but at Lamport 5, so the newest row is not the winner.
    const [aId] = await t.push(userId, a, [set(10, "x", "name", "from a")]);
    const [bId] = await t.push(userId, b, [set(10, "x", "name", "from b")]);
    await t.push(userId, c, [set(5, "x", "name", "from c")]);
    // Another field and entity, and the newest op, which stays above the watermark.
    await t.push(userId, c, [set(6, "x", "rank", "1"), set(7, "y", "name", "other")]);
    await t.push(userId, a, [set(11, "x", "rank", "2"), set(12, "z", "name", "newest")]);
    const full = await t.allOps(userId);
    const newest = full.at(-1)?.id ?? 0;
    for (const deviceId of [a, b, c]) await t.storedCursor(userId, deviceId, newest);

    // Batches of 2: later batches recompute the winners over earlier survivors and new ops.
    const result = await compactUser(t.prisma, t.acks, userId, {
      staleWindowMs: 90 * DAY_MS,
      batchSize: 2,
      now: t.clock,
    });
    expect(result.watermarkAfter).toBe(newest);
    const compacted = await t.allOps(userId);

    const tieWinner = a.toLowerCase() > b.toLowerCase() ? aId : bId;
    const survivingNames = compacted
      .filter((op) => op.entityId === "x" && op.field === "name")
      .map((op) => op.id);
    expect(survivingNames).toEqual([tieWinner]);
    expect(byId(compacted)).toEqual(
      byId(compactionSurvivors(full.filter((op) => op.id < newest))).concat(newest),
    );
    expect(materialize(compacted)).toEqual(materialize(full));
  });

  it("when three devices tie on a field and the winner was stored between the other two", async () => {
    const userId = await t.user();
    const devices = [await t.device(userId), await t.device(userId), await t.device(userId)];
    // The device id breaks the tie: the highest wins. It is pushed second, so its id is
    // neither the lowest nor the highest of the three tied rows.
    const [low, mid, high] = devices.sort((x, y) => (x.toLowerCase() < y.toLowerCase() ? -1 : 1));
    await t.push(userId, low as string, [set(10, "x", "name", "from low")]);
    const [winnerId] = await t.push(userId, high as string, [set(10, "x", "name", "from high")]);
    await t.push(userId, mid as string, [set(10, "x", "name", "from mid")]);
    await t.push(userId, low as string, [set(11, "z", "name", "newest")]);
    const full = await t.allOps(userId);
    const newest = full.at(-1)?.id ?? 0;
    for (const deviceId of devices) await t.storedCursor(userId, deviceId, newest);

    const result = await compactUser(t.prisma, t.acks, userId, {
      staleWindowMs: 90 * DAY_MS,
      batchSize: 1_000,
      now: t.clock,
    });
    expect(result.watermarkAfter).toBe(newest);
    const compacted = await t.allOps(userId);
    const survivingNames = compacted
      .filter((op) => op.entityId === "x" && op.field === "name")
      .map((op) => op.id);
    expect(survivingNames).toEqual([winnerId]);
    expect(materialize(compacted)).toEqual(materialize(full));
  });
});
