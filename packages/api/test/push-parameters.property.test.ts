import { createRequire } from "node:module";
import fc from "fast-check";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { intArrayText, pgArrayElement } from "../src/sync/ops-store.js";

/*
 * The push writes its array parameters' text itself and reads its answer's integer arrays
 * itself (ADR 0039): Postgres must receive the same literals node-postgres would have sent, and
 * parsePushAnswer must see the same elements node-postgres' parser would have given.
 */

const require = createRequire(import.meta.url);
const { prepareValue } = require("pg/lib/utils.js") as {
  prepareValue: (value: unknown) => unknown;
};

const literal = (items: (string | number | null)[]) =>
  `{${items.map((item) => pgArrayElement(item)).join(",")}}`;

// Text of every kind: quotes, backslashes, braces, commas, spaces, NULL spelled out, any unit.
const text = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.string({ unit: fc.constantFrom('"', "\\", "{", "}", ",", " ", "a", "é", "😀", "\n") }),
  fc.constantFrom("", "NULL", "null", '\\"', '""', "\\\\"),
  fc.uuid(),
);
const element = fc.oneof(
  { weight: 6, arbitrary: text },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.maxSafeNat() },
);

describe("the push's array parameters", () => {
  it("are the literals node-postgres makes of the same arrays", () => {
    fc.assert(
      fc.property(fc.array(element, { maxLength: 12 }), (items) => {
        expect(literal(items)).toBe(prepareValue(items));
      }),
      { numRuns: 3_000 },
    );
  });
});

describe("the push answer's integer arrays", () => {
  it("read as node-postgres reads int4[] and int8[], element for element", () => {
    const int8Array = pg.types.getTypeParser(1016 as never, "text") as (text: string) => unknown[];
    const int4Array = pg.types.getTypeParser(1007 as never, "text") as (text: string) => unknown[];
    const int8 = fc.oneof(
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
      fc.constant(null),
    );
    const int4 = fc.oneof(fc.integer().map(String), fc.constant(null));
    fc.assert(
      fc.property(fc.array(int8, { maxLength: 12 }), fc.array(int4, { maxLength: 12 }), (a, b) => {
        const a8 = `{${a.map((item) => item ?? "NULL").join(",")}}`;
        const b4 = `{${b.map((item) => item ?? "NULL").join(",")}}`;
        expect(intArrayText(a8)).toStrictEqual(int8Array(a8));
        // node-postgres makes numbers of int4 elements; the text is the same number's.
        expect(intArrayText(b4)).toStrictEqual(
          int4Array(b4).map((item) => (item === null ? null : String(item))),
        );
      }),
      { numRuns: 3_000 },
    );
  });
});
