import { describe, expect, it } from "vitest";
import {
  isSealedValue,
  OpInput,
  SealedValueV1,
  summarizeValue,
  WrappedAccountKey,
} from "../src/index.js";

const envelope = { $sealed: 1, e: 1, n: "A".repeat(32), c: "B".repeat(40) };

describe("sealed values on the wire", () => {
  it("recognises envelopes of any version and nothing else", () => {
    expect(isSealedValue(envelope)).toBe(true);
    expect(isSealedValue({ $sealed: 7 })).toBe(true);
    for (const value of [
      null,
      "x",
      1,
      [envelope],
      { $sealed: "1" },
      { $sealed: 0 },
      { title: "x" },
    ]) {
      expect(isSealedValue(value)).toBe(false);
    }
    expect(SealedValueV1.safeParse(envelope).success).toBe(true);
    expect(SealedValueV1.safeParse({ ...envelope, n: "A".repeat(31) }).success).toBe(false);
  });

  it("summarises a value without its content when sealed", () => {
    expect(summarizeValue(envelope)).toEqual({
      kind: "sealed",
      version: 1,
      epoch: 1,
      bytes: JSON.stringify(envelope).length,
      blobs: 0,
    });
    expect(summarizeValue({ title: envelope, rating: envelope })).toMatchObject({
      kind: "sealed_fields",
      fields: 2,
      sealed: 2,
    });
    expect(summarizeValue("Mix")).toEqual({ kind: "plain", bytes: 5 });
    expect(summarizeValue(null)).toEqual({ kind: "null" });
  });

  it("a sealed set and a sealed insert are valid pushed ops; an envelope as initial fields is not", () => {
    const base = {
      operationId: "0b9c5d8e-1f2a-4b3c-8d4e-5f6a7b8c9d0e",
      lamportTs: 1,
      entity: "playlist",
      entityId: "p1",
    };
    expect(OpInput.safeParse({ ...base, field: "title", op: "set", value: envelope }).success).toBe(
      true,
    );
    expect(
      OpInput.safeParse({ ...base, field: null, op: "insert", value: { title: envelope } }).success,
    ).toBe(true);
    expect(OpInput.safeParse({ ...base, field: null, op: "insert", value: envelope }).success).toBe(
      false,
    );
  });

  it("a wrapped key names its KDF parameters and refuses unknown fields", () => {
    const wrapped = {
      v: 1,
      epoch: 1,
      kdf: {
        algorithm: "argon2id",
        memoryKiB: 65536,
        iterations: 3,
        parallelism: 1,
        salt: "A".repeat(22),
      },
      n: "A".repeat(32),
      c: "A".repeat(64),
    };
    expect(WrappedAccountKey.safeParse(wrapped).success).toBe(true);
    expect(WrappedAccountKey.safeParse({ ...wrapped, extra: 1 }).success).toBe(false);
    expect(
      WrappedAccountKey.safeParse({ ...wrapped, kdf: { ...wrapped.kdf, memoryKiB: 64 } }).success,
    ).toBe(false);
  });
});
