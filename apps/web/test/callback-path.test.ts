import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { safeCallbackPath } from "@/lib/account-schema";

/*
 * Where the browser goes after signing in. Whatever the query says, the answer must resolve to
 * this site: browsers resolve it against the page with the WHATWG URL parser, which Node's URL is.
 */
const FALLBACK = "/en/account";
const SITES = ["http://127.0.0.1:3000", "https://chorus.example"];

function staysOnSite(value: string): boolean {
  const result = safeCallbackPath(value, FALLBACK);
  return SITES.every((site) => new URL(result, site).origin === new URL(site).origin);
}

/** Pieces browsers treat specially in a URL: slashes, backslashes, stripped tabs and newlines. */
const piece = fc.constantFrom(
  "/",
  "//",
  "\\",
  "\t",
  "\n",
  "\r",
  " ",
  "%09",
  "%2F",
  "%5C",
  ".",
  "..",
  "@",
  ":",
  "?",
  "#",
  "evil.com",
  "http:",
  "https:",
  "javascript:alert(1)",
  "data:text/html,x",
  "en",
  "account",
  "\u0000",
  "\u3002",
  "\uFF0F",
);
const hostile = fc.array(piece, { maxLength: 10 }).map((parts) => parts.join(""));

/** Runs a synchronous property (a failing run throws with its counterexample). */
function check<T>(property: fc.IProperty<T>, numRuns: number): void {
  fc.assert(property, { numRuns });
}

describe("the sign-in callback", () => {
  it("open redirect through a tab in the callback (/\\t/evil.com) is refused", () => {
    expect(safeCallbackPath("/\t/evil.com", FALLBACK)).toBe(FALLBACK);
    expect(safeCallbackPath(decodeURIComponent("%2F%09%2Fevil.com"), FALLBACK)).toBe(FALLBACK);
    expect(staysOnSite("/\t/evil.com")).toBe(true);
  });

  it("keeps a path on this site, with its query", () => {
    expect(safeCallbackPath("/en/desktop-login?state=a&b=c", FALLBACK)).toBe(
      "/en/desktop-login?state=a&b=c",
    );
    expect(safeCallbackPath(undefined, FALLBACK)).toBe(FALLBACK);
  });

  it("never leaves the site, for strings built from URL-special pieces", () => {
    check(fc.property(hostile, staysOnSite), 5_000);
  });

  it("never leaves the site, for arbitrary strings", () => {
    check(fc.property(fc.string({ unit: "binary", maxLength: 40 }), staysOnSite), 5_000);
  });

  it("gives back a path that resolves to itself (nothing left for a browser to reinterpret)", () => {
    check(
      fc.property(hostile, (value) => {
        const result = safeCallbackPath(value, FALLBACK);
        expect(result.startsWith("/")).toBe(true);
        expect(safeCallbackPath(result, FALLBACK)).toBe(result);
      }),
      2_000,
    );
  });
});
