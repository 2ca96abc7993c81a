import { describe, expect, it } from "vitest";
import { batchKeyUse, sealedEpochsOf } from "../src/index.js";

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
