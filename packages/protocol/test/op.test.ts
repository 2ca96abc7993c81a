import { describe, expect, it } from "vitest";
import { MAX_ENTITY_ID_LENGTH, MAX_VALUE_BYTES, OpInput, SyncOp } from "../src/index.js";
import { messagesOf, opInput, syncOp } from "./fixtures.js";

describe("OpInput", () => {
  it("accepts a field write, a whole-entity delete, an insert with initial fields and a noop", () => {
    expect(OpInput.safeParse(opInput()).success).toBe(true);
    expect(OpInput.safeParse(opInput({ op: "delete", field: null, value: null })).success).toBe(
      true,
    );
    expect(
      OpInput.safeParse(opInput({ op: "insert", field: null, value: { title: "So What" } }))
        .success,
    ).toBe(true);
    expect(OpInput.safeParse(opInput({ op: "noop", field: null, value: null })).success).toBe(true);
  });

  it("accepts null as the value a set writes", () => {
    expect(OpInput.safeParse(opInput({ value: null })).success).toBe(true);
  });

  it("refuses a delete that names a field, and says how to clear one field instead", () => {
    const messages = messagesOf(OpInput.safeParse(opInput({ op: "delete", value: null })));
    expect(messages).toEqual([
      'a delete removes the whole entity, so field must be null (got "title"); to clear one field, send a set with value null',
    ]);
  });

  it("refuses a delete that carries a value", () => {
    expect(
      messagesOf(OpInput.safeParse(opInput({ op: "delete", field: null, value: "x" }))),
    ).toEqual(["a delete carries no value; value must be null"]);
  });

  it("refuses a set without a field", () => {
    expect(messagesOf(OpInput.safeParse(opInput({ field: null })))).toEqual([
      "a set writes one field, so field is required; to remove the entity, send a delete",
    ]);
  });

  it("refuses an insert whose initial fields are not an object of valid field names", () => {
    expect(
      messagesOf(OpInput.safeParse(opInput({ op: "insert", field: null, value: [1] }))),
    ).toMatchInlineSnapshot(`
      [
        "an insert without a field takes an object of initial fields (or null) as value",
      ]
    `);
    const badKey = OpInput.safeParse(opInput({ op: "insert", field: null, value: { Title: 1 } }));
    expect(messagesOf(badKey)[0]).toMatch(/^initial field "Title" must be lower-case letters/);
  });

  it("refuses a value over MAX_VALUE_BYTES measured as UTF-8 JSON, and gives both sizes", () => {
    // "é" is 2 bytes in UTF-8: 32 Ki of them plus the two quotes is just over 64 KiB.
    const value = "é".repeat(MAX_VALUE_BYTES / 2);
    const messages = messagesOf(OpInput.safeParse(opInput({ value })));
    expect(messages).toEqual([
      `value is ${MAX_VALUE_BYTES + 2} bytes as JSON, over the ${MAX_VALUE_BYTES}-byte limit (MAX_VALUE_BYTES); split it across fields or entities`,
    ]);
  });

  it("accepts a value of exactly MAX_VALUE_BYTES", () => {
    const value = "x".repeat(MAX_VALUE_BYTES - 2);
    expect(OpInput.safeParse(opInput({ value })).success).toBe(true);
  });

  it.each([
    ["Track", "upper case"],
    ["1track", "a leading digit"],
    ["play-list", "a dash"],
    ["", "nothing"],
    [`a${"b".repeat(64)}`, "65 characters"],
  ])("refuses the entity name %j (%s)", (entity) => {
    expect(messagesOf(OpInput.safeParse(opInput({ entity })))[0]).toMatch(
      /^entity must be lower-case letters, digits and _, starting with a letter/,
    );
  });

  it("accepts a 64-character entity name", () => {
    expect(OpInput.safeParse(opInput({ entity: `a${"b".repeat(63)}` })).success).toBe(true);
  });

  it("refuses bad field names and over-long or empty entity ids", () => {
    expect(messagesOf(OpInput.safeParse(opInput({ field: "Title" })))[0]).toMatch(/^field must/);
    expect(
      messagesOf(OpInput.safeParse(opInput({ entityId: "x".repeat(MAX_ENTITY_ID_LENGTH + 1) }))),
    ).toEqual([`entityId must be at most ${MAX_ENTITY_ID_LENGTH} characters`]);
    expect(messagesOf(OpInput.safeParse(opInput({ entityId: "" })))).toEqual([
      "entityId must not be empty",
    ]);
  });

  it("refuses lamportTs that are not positive safe integers", () => {
    for (const lamportTs of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1]) {
      expect(OpInput.safeParse(opInput({ lamportTs })).success, String(lamportTs)).toBe(false);
    }
    expect(OpInput.safeParse(opInput({ lamportTs: Number.MAX_SAFE_INTEGER })).success).toBe(true);
  });

  it("refuses an operationId that is not a UUID", () => {
    expect(messagesOf(OpInput.safeParse(opInput({ operationId: "op-1" })))).toEqual([
      "must be a UUID (8-4-4-4-12 hex digits)",
    ]);
  });

  it("refuses values JSON cannot carry, naming where they are", () => {
    const cases: Array<[unknown, string]> = [
      [undefined, "value is undefined, which JSON cannot carry"],
      [{ plays: Number.NaN }, "value.plays is NaN, which JSON cannot carry"],
      [{ at: new Date(0) }, "value.at is a Date; send plain objects (dates as ISO strings)"],
      [[1, 2n], "value.1 is bigint, which JSON cannot carry"],
    ];
    for (const [value, message] of cases) {
      const parsed = OpInput.safeParse({ ...opInput(), value });
      expect(messagesOf(parsed)).toEqual([message]);
    }
  });

  it("refuses a self-referencing value instead of throwing", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(messagesOf(OpInput.safeParse(opInput({ value: cyclic as never })))[0]).toMatch(
      /nests deeper than 64 levels/,
    );
  });
});

describe("SyncOp", () => {
  it("accepts a stored op and applies the same op rules", () => {
    expect(SyncOp.safeParse(syncOp()).success).toBe(true);
    expect(SyncOp.safeParse(syncOp({ op: "delete", value: null })).success).toBe(false);
  });

  it("refuses a non-positive id, a device id that is not a UUID and a bad createdAt", () => {
    expect(SyncOp.safeParse(syncOp({ id: 0 })).success).toBe(false);
    expect(SyncOp.safeParse(syncOp({ deviceId: "laptop" })).success).toBe(false);
    expect(messagesOf(SyncOp.safeParse(syncOp({ createdAt: "yesterday" })))).toEqual([
      "createdAt must be an ISO 8601 date-time",
    ]);
  });
});
