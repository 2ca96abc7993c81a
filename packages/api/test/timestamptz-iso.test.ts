import pg from "pg";
import { describe, expect, it } from "vitest";
import { isoFromTimestamptz } from "../src/sync/ops-store.js";

/** What the page gave before: node-postgres's timestamptz parser, then the Date's ISO string. */
const viaDate = (text: string) =>
  (pg.types.getTypeParser(1184, "text") as (text: string) => Date)(text).toISOString();

describe("a pull page's createdAt from Postgres's timestamptz text", () => {
  it("is the ISO string node-postgres's Date gives, for every fraction of 1 to 6 digits", () => {
    const mismatches: string[] = [];
    for (let digits = 1; digits <= 6; digits++) {
      for (let i = 0; i < 10 ** digits; i++) {
        const text = `2026-12-01 19:41:07.${String(i).padStart(digits, "0")}+00`;
        if (isoFromTimestamptz(text) !== viaDate(text)) mismatches.push(text);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it("is the same for whole seconds, other days and years, and forms it does not cut", () => {
    for (const text of [
      "2026-12-01 19:41:07+00",
      "1970-01-01 00:00:00+00",
      "2000-02-29 23:59:59.999999+00",
      "9999-12-31 23:59:59.9995+00",
      "1000-01-01 00:00:00.5+00",
      "0099-03-04 05:06:07.123+00",
      "2026-12-01 21:41:07.123456+02",
      "2026-12-01 15:11:07.123456-04:30",
      "2026-12-01 19:41:07.123456+00 BC",
      "12026-12-01 19:41:07.123456+00",
    ]) {
      expect(isoFromTimestamptz(text), text).toBe(viaDate(text));
    }
  });
});
