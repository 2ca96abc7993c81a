import { describe, expect, it } from "vitest";
import { jsonByteLength, PROTOCOL_VERSION, toWireInt } from "../src/index.js";

describe("wire integers", () => {
  it("converts stored bigints to numbers while they are safe", () => {
    expect(toWireInt(42n)).toBe(42);
    expect(toWireInt(BigInt(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("refuses to round a bigint beyond Number.MAX_SAFE_INTEGER", () => {
    expect(() => toWireInt(BigInt(Number.MAX_SAFE_INTEGER) + 1n)).toThrow(RangeError);
    expect(() => toWireInt(1.5)).toThrow(RangeError);
  });
});

describe("jsonByteLength", () => {
  it("counts UTF-8 bytes of the JSON encoding", () => {
    expect(jsonByteLength("é")).toBe(4);
    expect(jsonByteLength({ a: 1 })).toBe(7);
    expect(jsonByteLength(null)).toBe(4);
  });
});

describe("PROTOCOL_VERSION", () => {
  it("is 1", () => {
    expect(PROTOCOL_VERSION).toBe(1);
  });
});
