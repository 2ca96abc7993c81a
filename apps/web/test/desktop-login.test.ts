import { generateOAuthState } from "@chorus/auth";
import { describe, expect, it } from "vitest";
import {
  declinedRedirect,
  desktopLoginQuery,
  parseDesktopLoginRequest,
} from "@/server/desktop-login";
import { validDesktopLoginQuery } from "./desktop-login-query";

const validQuery = validDesktopLoginQuery;

function problemsWith(overrides: Record<string, string | string[] | undefined>) {
  const parsed = parseDesktopLoginRequest({ ...validQuery(), ...overrides });
  return parsed.ok ? [] : parsed.problems;
}

describe("GET /desktop-login request validation (ADR 0002 §1)", () => {
  it("accepts a well-formed request on 127.0.0.1 or [::1]", () => {
    expect(parseDesktopLoginRequest(validQuery()).ok).toBe(true);
    const ipv6 = parseDesktopLoginRequest({
      ...validQuery(),
      redirect_uri: "http://[::1]:40000/callback",
    });
    expect(ipv6.ok).toBe(true);
  });

  it.each([
    ["another host", "http://evil.example/callback"],
    ["localhost", "http://localhost:53123/callback"],
    ["https", "https://127.0.0.1:53123/callback"],
    ["a wrong path", "http://127.0.0.1:53123/cb"],
    ["a path below /callback", "http://127.0.0.1:53123/callback/x"],
    ["a query", "http://127.0.0.1:53123/callback?next=http://evil.example"],
    ["a fragment", "http://127.0.0.1:53123/callback#x"],
    ["userinfo", "http://user@127.0.0.1:53123/callback"],
    ["port 0", "http://127.0.0.1:0/callback"],
    ["a shortened IP", "http://127.1:53123/callback"],
  ])("refuses a redirect_uri with %s", (_case, redirectUri) => {
    expect(problemsWith({ redirect_uri: redirectUri })).toEqual(["redirect_uri"]);
  });

  it("refuses a missing, short, malformed or repeated state", () => {
    expect(problemsWith({ state: undefined })).toEqual(["state"]);
    expect(problemsWith({ state: "too-short" })).toEqual(["state"]);
    expect(problemsWith({ state: `${"a".repeat(40)}!` })).toEqual(["state"]);
    expect(problemsWith({ state: [generateOAuthState(), generateOAuthState()] })).toEqual([
      "state",
    ]);
  });

  it("requires an S256 code challenge", () => {
    expect(problemsWith({ code_challenge: undefined })).toEqual(["code_challenge"]);
    expect(problemsWith({ code_challenge: "short" })).toEqual(["code_challenge"]);
    expect(problemsWith({ code_challenge_method: "plain" })).toEqual(["code_challenge_method"]);
    expect(problemsWith({ code_challenge_method: undefined })).toEqual(["code_challenge_method"]);
  });

  it("requires a device name of 1..80 characters, a platform and a semver app version", () => {
    expect(problemsWith({ device_name: "  " })).toEqual(["device_name"]);
    expect(problemsWith({ device_name: "x".repeat(81) })).toEqual(["device_name"]);
    expect(problemsWith({ device_name: "bad\u0000name" })).toEqual(["device_name"]);
    expect(problemsWith({ platform: "" })).toEqual(["platform"]);
    expect(problemsWith({ platform: "Mac OS <script>" })).toEqual(["platform"]);
    expect(problemsWith({ app_version: "1.4" })).toEqual(["app_version"]);
    expect(problemsWith({ app_version: "1.4.0-beta.1+build.7" })).toEqual([]);
  });

  it("lists every problem at once, in a stable order", () => {
    expect(parseDesktopLoginRequest({})).toEqual({
      ok: false,
      problems: [
        "redirect_uri",
        "state",
        "code_challenge",
        "code_challenge_method",
        "device_name",
        "platform",
        "app_version",
      ],
    });
  });
});

describe("the redirects back to the desktop (ADR 0002 §2)", () => {
  it("declining sends error=access_denied and the same state to the loopback listener", () => {
    const parsed = parseDesktopLoginRequest(validQuery());
    if (!parsed.ok) throw new Error("valid query refused");
    const url = new URL(declinedRedirect(parsed.request));
    expect(`${url.origin}${url.pathname}`).toBe("http://127.0.0.1:53123/callback");
    expect(url.searchParams.get("error")).toBe("access_denied");
    expect(url.searchParams.get("state")).toBe(parsed.request.state);
    expect(url.searchParams.has("code")).toBe(false);
  });

  it("the sign-in detour comes back to the same request", () => {
    const query = validQuery();
    const parsed = parseDesktopLoginRequest(query);
    if (!parsed.ok) throw new Error("valid query refused");
    const again = parseDesktopLoginRequest(
      Object.fromEntries(new URLSearchParams(desktopLoginQuery(parsed.request))),
    );
    expect(again).toEqual(parsed);
  });
});
