import fc from "fast-check";
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

  it("counts what TextEncoder writes: two-, three- and four-byte characters, lone surrogates", () => {
    const encoded = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).byteLength;
    for (const value of [
      "ß",
      "€",
      "𝄞",
      "a𝄞b",
      "\ud834",
      "\udd1e",
      "\udd1e\ud834",
      { ключ: ["😀", 1] },
    ]) {
      expect(jsonByteLength(value)).toBe(encoded(value));
    }
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: "binary" }), (value, text) => {
        expect(jsonByteLength(value)).toBe(encoded(value));
        expect(jsonByteLength(text)).toBe(encoded(text));
        expect(jsonByteLength([text, value])).toBe(encoded([text, value]));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("PROTOCOL_VERSION", () => {
  it("is 1", () => {
    expect(PROTOCOL_VERSION).toBe(1);
  });
});
