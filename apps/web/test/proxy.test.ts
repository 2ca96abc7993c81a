import { generateOAuthState } from "@chorus/auth";
import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import { config, proxy } from "@/proxy";
import { validDesktopLoginQuery } from "./desktop-login-query";

function visit(path: string, headers: Record<string, string> = {}) {
  return proxy(new NextRequest(new URL(path, "http://chorus.test"), { headers }));
}

function redirectedTo(response: Response): string | null {
  const location = response.headers.get("location");
  return location === null ? null : new URL(location).pathname;
}

describe("the locale proxy", () => {
  it("sends / to the best locale from Accept-Language", () => {
    expect(redirectedTo(visit("/", { "accept-language": "ar-EG,ar;q=0.9,en;q=0.5" }))).toBe("/ar");
    expect(redirectedTo(visit("/", { "accept-language": "pt-BR,pt;q=0.9" }))).toBe("/pt-BR");
    expect(redirectedTo(visit("/", { "accept-language": "zh-Hant-TW,zh;q=0.8" }))).toBe("/zh-TW");
  });

  it("falls back to English when no supported language is asked for", () => {
    expect(redirectedTo(visit("/", { "accept-language": "sw-KE" }))).toBe("/en");
    expect(redirectedTo(visit("/"))).toBe("/en");
  });

  it("adds the locale to unprefixed paths and leaves prefixed ones alone", () => {
    expect(redirectedTo(visit("/sign-in", { "accept-language": "de" }))).toBe("/de/sign-in");
    const prefixed = visit("/ja/sign-in", { "accept-language": "de" });
    expect(prefixed.headers.get("location")).toBeNull();
    expect(prefixed.status).toBe(200);
  });

  it("does not run for API routes, Next internals or files", () => {
    const matcher = new RegExp(`^${config.matcher}$`);
    expect(matcher.test("/")).toBe(true);
    expect(matcher.test("/en/account")).toBe(true);
    expect(matcher.test("/api/auth/session")).toBe(false);
    expect(matcher.test("/_next/static/chunk.js")).toBe(false);
    expect(matcher.test("/favicon.ico")).toBe(false);
  });

  it("answers an invalid /desktop-login request 400 and lets the page render its error", () => {
    const valid = new URLSearchParams(validDesktopLoginQuery());
    expect(visit(`/de/desktop-login?${valid}`).status).toBe(200);
    for (const [name, value] of [
      ["redirect_uri", "http://evil.example/callback"],
      ["state", "short"],
      ["code_challenge_method", "plain"],
    ] as const) {
      const bad = new URLSearchParams(valid);
      bad.set(name, value);
      const response = visit(`/de/desktop-login?${bad}`);
      expect(response.status, name).toBe(400);
      // Not a redirect, and the page still renders (the proxy lets the request through).
      expect(response.headers.get("location"), name).toBeNull();
      expect(response.headers.get("x-middleware-next"), name).toBe("1");
    }
    const missing = new URLSearchParams(valid);
    missing.delete("state");
    expect(visit(`/en/desktop-login?${missing}`).status).toBe(400);
    const twice = new URLSearchParams(valid);
    twice.append("state", generateOAuthState());
    expect(visit(`/en/desktop-login?${twice}`).status).toBe(400);
    // Other pages and the done page are not its business.
    expect(visit("/en/desktop-login/done?result=connected").status).toBe(200);
    expect(visit("/en/sign-in?state=short").status).toBe(200);
  });
});
