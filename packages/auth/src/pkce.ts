import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** RFC 7636 §4.1: 43..128 characters from the unreserved set. */
const CODE_VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;
/** An S256 challenge: base64url (no padding) of a SHA-256 digest, always 43 characters. */
const S256_CHALLENGE_PATTERN = /^[A-Za-z0-9\-_]{43}$/;

export const PKCE_METHOD = "S256";

export function isCodeVerifier(value: string): boolean {
  return CODE_VERIFIER_PATTERN.test(value);
}

export function isCodeChallenge(value: string): boolean {
  return S256_CHALLENGE_PATTERN.test(value);
}

/** A fresh code verifier of `length` characters (default 64), from a CSPRNG. */
export function generateCodeVerifier(length = 64): string {
  if (!Number.isInteger(length) || length < 43 || length > 128) {
    throw new RangeError(`a PKCE code verifier has 43..128 characters (asked for ${length})`);
  }
  // base64url characters are all unreserved; 3 bytes give 4 characters.
  return randomBytes(Math.ceil((length * 3) / 4))
    .toString("base64url")
    .slice(0, length);
}

/** BASE64URL(SHA256(ASCII(verifier))), RFC 7636 §4.2. */
export function codeChallengeS256(verifier: string): string {
  if (!isCodeVerifier(verifier)) {
    throw new TypeError("a PKCE code verifier has 43..128 characters of [A-Za-z0-9-._~]");
  }
  return createHash("sha256").update(verifier, "ascii").digest("base64url");
}

/** True when `verifier` hashes to `challenge`; compares in constant time. */
export function verifyCodeChallenge(verifier: string, challenge: string): boolean {
  if (!isCodeVerifier(verifier) || !isCodeChallenge(challenge)) return false;
  const expected = Buffer.from(codeChallengeS256(verifier), "ascii");
  const actual = Buffer.from(challenge, "ascii");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** An OAuth `state` value: 32 random bytes, base64url. */
export function generateOAuthState(): string {
  return randomBytes(32).toString("base64url");
}

/*
 * RFC 8252 §7.3 loopback redirect, as Chorus narrows it (docs/design.md#authentication): http, the literal IP 127.0.0.1 or
 * [::1] (never "localhost", which DNS or a hosts file may point elsewhere), any port, path
 * exactly /callback, and nothing else: no userinfo, query or fragment. Matched on the raw
 * string, because URL parsing would normalise forms such as http://127.1/ or upper case.
 */
const LOOPBACK_REDIRECT_PATTERN = /^http:\/\/(?:127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?\/callback$/;

export function isLoopbackRedirectUri(uri: string): boolean {
  const match = LOOPBACK_REDIRECT_PATTERN.exec(uri);
  if (match === null) return false;
  const port = match[1];
  if (port === undefined) return true;
  const portNumber = Number(port);
  return portNumber >= 1 && portNumber <= 65535;
}
