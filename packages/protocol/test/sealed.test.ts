import { describe, expect, it } from "vitest";
import {
  batchKeyUse,
  isSealedValue,
  OpInput,
  SealedValueV1,
  sealedEpochsOf,
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

/** A sealed envelope naming epoch `e` (its nonce and ciphertext are not looked at). */
const sealed = (e: number) => ({ $sealed: 1, e, n: "n", c: "c" });

describe("what a push needs of the account's key", () => {
  it("reads the epochs of sealed values and counts values in clear, as sealOp seals them", () => {
    expect(sealedEpochsOf({ op: "set", field: "name", value: sealed(2) })).toEqual({
      epochs: [2],
      plain: 0,
    });
    // A set of null is a value, sealed like any other: in clear it counts.
    expect(sealedEpochsOf({ op: "set", field: "name", value: null })).toEqual({
      epochs: [],
      plain: 1,
    });
    expect(
      sealedEpochsOf({ op: "insert", field: null, value: { name: sealed(1), cover: "x" } }),
    ).toEqual({ epochs: [1], plain: 1 });
    expect(sealedEpochsOf({ op: "delete", field: null, value: null })).toEqual({
      epochs: [],
      plain: 0,
    });
    expect(sealedEpochsOf({ op: "insert", field: null, value: null })).toEqual({
      epochs: [],
      plain: 0,
    });
    // An envelope without a usable epoch names epoch 0: no account's current one.
    expect(sealedEpochsOf({ op: "set", field: "x", value: { $sealed: 1, e: "2" } })).toEqual({
      epochs: [0],
      plain: 0,
    });
  });

  it("sums a batch up as its lowest and highest epoch and whether anything is in clear", () => {
    expect(
      batchKeyUse([
        { op: "set", field: "a", value: sealed(3) },
        { op: "insert", field: null, value: { a: sealed(2), b: sealed(3) } },
        { op: "delete", field: null, value: null },
      ]),
    ).toEqual({ minEpoch: 2, maxEpoch: 3, plain: false });
    expect(batchKeyUse([{ op: "set", field: "a", value: "clear" }])).toEqual({
      minEpoch: null,
      maxEpoch: null,
      plain: true,
    });
    expect(batchKeyUse([{ op: "delete", field: null, value: null }])).toEqual({
      minEpoch: null,
      maxEpoch: null,
      plain: false,
    });
  });
});
