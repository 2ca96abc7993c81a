import { describe, expect, it } from "vitest";
import {
  codeChallengeS256,
  generateCodeVerifier,
  generateOAuthState,
  isCodeVerifier,
  isLoopbackRedirectUri,
  verifyCodeChallenge,
} from "../src/index.js";

// RFC 7636, appendix B.
const RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

describe("PKCE (RFC 7636)", () => {
  it("computes the S256 challenge of appendix B", () => {
    expect(codeChallengeS256(RFC_VERIFIER)).toBe(RFC_CHALLENGE);
  });

  it("accepts the matching verifier and refuses any other", () => {
    expect(verifyCodeChallenge(RFC_VERIFIER, RFC_CHALLENGE)).toBe(true);
    expect(verifyCodeChallenge(`${RFC_VERIFIER.slice(0, -1)}Y`, RFC_CHALLENGE)).toBe(false);
    expect(verifyCodeChallenge(RFC_VERIFIER, `${RFC_CHALLENGE.slice(0, -1)}N`)).toBe(false);
    expect(verifyCodeChallenge(RFC_VERIFIER, RFC_VERIFIER)).toBe(false);
    expect(verifyCodeChallenge("short", codeChallengeS256(RFC_VERIFIER))).toBe(false);
  });

  it("generates verifiers of 43..128 unreserved characters that are never repeated", () => {
    for (const length of [43, 64, 128]) {
      const verifier = generateCodeVerifier(length);
      expect(verifier).toHaveLength(length);
      expect(isCodeVerifier(verifier)).toBe(true);
      expect(verifyCodeChallenge(verifier, codeChallengeS256(verifier))).toBe(true);
    }
    expect(generateCodeVerifier()).not.toBe(generateCodeVerifier());
    expect(() => generateCodeVerifier(42)).toThrow(RangeError);
    expect(() => generateCodeVerifier(129)).toThrow(RangeError);
  });

  it("refuses to hash a verifier outside the RFC's alphabet or length", () => {
    expect(() => codeChallengeS256("a".repeat(42))).toThrow(TypeError);
    expect(() => codeChallengeS256(`${"a".repeat(42)}+`)).toThrow(TypeError);
  });

  it("generates unguessable state values", () => {
    expect(generateOAuthState()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateOAuthState()).not.toBe(generateOAuthState());
  });
});

describe("isLoopbackRedirectUri (RFC 8252, narrowed to 127.0.0.1 / [::1] and /callback)", () => {
  it.each([
    "http://127.0.0.1/callback",
    "http://127.0.0.1:53682/callback",
    "http://127.0.0.1:1/callback",
    "http://127.0.0.1:65535/callback",
    "http://[::1]/callback",
    "http://[::1]:8123/callback",
  ])("accepts %s", (uri) => {
    expect(isLoopbackRedirectUri(uri)).toBe(true);
  });

  it.each([
    ["http://localhost:8123/callback", "localhost may resolve elsewhere"],
    ["https://127.0.0.1:8123/callback", "not plain http"],
    ["http://127.0.0.2:8123/callback", "another loopback address"],
    ["http://127.1:8123/callback", "a short IPv4 form"],
    ["http://[0:0:0:0:0:0:0:1]:8123/callback", "a long IPv6 form"],
    ["http://127.0.0.1:8123/callback/", "a trailing slash"],
    ["http://127.0.0.1:8123/", "no /callback path"],
    ["http://127.0.0.1:8123/other", "another path"],
    ["http://127.0.0.1:8123/Callback", "another case"],
    ["http://127.0.0.1:8123/callback?x=1", "a query"],
    ["http://127.0.0.1:8123/callback#frag", "a fragment"],
    ["http://user:pw@127.0.0.1:8123/callback", "userinfo"],
    ["http://127.0.0.1@evil.example/callback", "userinfo hiding another host"],
    ["http://evil.example/callback#http://127.0.0.1/callback", "another host"],
    ["http://127.0.0.1:0/callback", "port 0"],
    ["http://127.0.0.1:65536/callback", "a port out of range"],
    ["HTTP://127.0.0.1:8123/callback", "upper-case scheme"],
    [" http://127.0.0.1:8123/callback", "surrounding space"],
    ["http://127.0.0.1:8123/callback\n", "a trailing newline"],
    ["", "nothing"],
  ])("refuses %j (%s)", (uri) => {
    expect(isLoopbackRedirectUri(uri)).toBe(false);
  });
});
