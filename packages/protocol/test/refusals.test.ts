import { describe, expect, it } from "vitest";
import {
  JsonValue,
  OpInput,
  PROTOCOL_VERSION,
  PushInput,
  protocolVersionRefusal,
  refusalOf,
  refusedOpIndexes,
  unstorableStringProblem,
} from "../src/index.js";

const op = {
  operationId: "3b241101-e2bb-4255-8caf-4136c566a962",
  lamportTs: 1,
  entity: "playlist",
  entityId: "p1",
  field: "name",
  op: "set" as const,
  value: "Mix",
};

describe("strings that cannot be stored (U+0000, lone surrogates)", () => {
  it.each([
    ["U+0000", "a\u0000b"],
    ["a lone high surrogate at the end", "ab\uD83D"],
    ["a lone high surrogate before a letter", "\uD83Dx"],
    ["a lone low surrogate", "\uDE00"],
    ["two high surrogates", "\uD83D\uD83D"],
  ])("refuses %s in an entity id, a value, a nested value and a key", (_name, poison) => {
    expect(unstorableStringProblem(poison)).not.toBeNull();
    expect(OpInput.safeParse({ ...op, entityId: poison }).success).toBe(false);
    expect(OpInput.safeParse({ ...op, value: poison }).success).toBe(false);
    expect(JsonValue.safeParse({ a: [{ b: poison }] }).success).toBe(false);
    expect(JsonValue.safeParse({ [poison]: 1 }).success).toBe(false);
  });

  it("accepts every well-formed string, astral characters and U+FFFD included", () => {
    for (const text of ["", "plain", "\uD83D\uDE00", "\uFFFD", "\u4e2d\u00e9\t\n\u200D"]) {
      expect(unstorableStringProblem(text)).toBeNull();
      expect(OpInput.safeParse({ ...op, value: { [text || "k"]: text } }).success).toBe(true);
    }
  });

  it("names where the bad string is", () => {
    const parsed = OpInput.safeParse({ ...op, value: { list: ["ok", "x\u0000"] } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/value\.list\.1 contains U\+0000/);
  });
});

describe("refusalOf", () => {
  it("a batch over its byte limit is payload_too_large; the batch can be split", () => {
    const big = Array.from({ length: 12 }, (_, i) => ({
      ...op,
      operationId: `3b241101-e2bb-4255-8caf-4136c566a9${String(i).padStart(2, "0")}`,
      lamportTs: i + 1,
      value: "x".repeat(50_000),
    }));
    const parsed = PushInput.safeParse({ ops: big });
    expect(parsed.success).toBe(false);
    expect(refusalOf(parsed.error?.issues ?? [])).toMatchObject({ type: "payload_too_large" });
  });

  it("a refused op is invalid_input naming its index; a value over its own limit too", () => {
    const parsed = PushInput.safeParse({
      ops: [
        op,
        {
          ...op,
          operationId: "3b241101-e2bb-4255-8caf-4136c566a963",
          lamportTs: 2,
          value: "x".repeat(70_000),
        },
      ],
    });
    const refusal = refusalOf(parsed.error?.issues ?? []);
    expect(refusal.type).toBe("invalid_input");
    expect(refusedOpIndexes(refusal)).toEqual([1]);
  });
});

describe("protocolVersionRefusal", () => {
  it("serves the current version and a client that states none (version 1)", () => {
    expect(protocolVersionRefusal(String(PROTOCOL_VERSION))).toBeNull();
    expect(protocolVersionRefusal(undefined)).toBeNull();
  });

  it("refuses versions outside [min, max] and junk", () => {
    expect(protocolVersionRefusal(String(PROTOCOL_VERSION + 1))).toMatchObject({
      type: "upgrade_required",
      clientVersion: PROTOCOL_VERSION + 1,
    });
    expect(protocolVersionRefusal("1", { min: 2, max: 3 })).toMatchObject({ clientVersion: 1 });
    expect(protocolVersionRefusal(undefined, { min: 2, max: 3 })).not.toBeNull();
    expect(protocolVersionRefusal("1.5")).toMatchObject({ clientVersion: 0 });
  });
});
