import { describe, expect, it } from "vitest";
import { contentSecurityPolicy } from "./csp.js";

function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy.split(";").map((directive) => {
      const [name = "", ...sources] = directive.trim().split(/\s+/);
      return [name, sources];
    }),
  );
}

describe("contentSecurityPolicy", () => {
  it("in production allows only our own scripts and styles and no network at all", () => {
    const policy = directives(contentSecurityPolicy("production"));
    expect(policy.get("default-src")).toEqual(["'none'"]);
    expect(policy.get("script-src")).toEqual(["'self'"]);
    expect(policy.get("style-src")).toEqual(["'self'"]);
    expect(policy.get("connect-src")).toEqual(["'none'"]);
    expect(policy.get("object-src")).toEqual(["'none'"]);
    expect(policy.get("base-uri")).toEqual(["'none'"]);
  });

  it("in the dev harness allows fetch to its own origin and nothing else", () => {
    const policy = directives(contentSecurityPolicy("harness"));
    expect(policy.get("connect-src")).toEqual(["'self'"]);
    expect(policy.get("script-src")).toEqual(["'self'"]);
  });

  it("never allows eval, in any mode", () => {
    for (const mode of ["production", "development", "harness"] as const) {
      expect(contentSecurityPolicy(mode)).not.toContain("unsafe-eval");
    }
  });

  it("in development adds only inline preamble/styles and the HMR socket", () => {
    const policy = directives(contentSecurityPolicy("development"));
    expect(policy.get("script-src")).toEqual(["'self'", "'unsafe-inline'"]);
    expect(policy.get("connect-src")).toEqual(["'self'", "ws://localhost:*", "ws://127.0.0.1:*"]);
  });
});
