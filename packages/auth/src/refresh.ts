import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/*
 * Refresh tokens and one-time desktop codes are opaque: 32 random bytes, base64url. Only
 * their SHA-256 (hex) is stored, so a database leak yields nothing usable; a lookup by hash
 * is safe without a slow KDF because the secret has 256 bits of entropy.
 */

/** How long a refresh token may be used before the user signs in again. */
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 60 * 60;
/** How long the one-time code handed to the loopback redirect stays exchangeable. */
export const DESKTOP_CODE_TTL_SECONDS = 60;

function generateOpaqueSecret(): string {
  return randomBytes(32).toString("base64url");
}

function hashOpaqueSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export function generateRefreshToken(): string {
  return generateOpaqueSecret();
}

/** What the refresh_tokens table stores (token_hash). */
export function hashRefreshToken(token: string): string {
  return hashOpaqueSecret(token);
}

export function generateDesktopCode(): string {
  return generateOpaqueSecret();
}

/** What the desktop_auth_codes table stores (code_hash). */
export function hashDesktopCode(code: string): string {
  return hashOpaqueSecret(code);
}

/** Constant-time check of a presented secret against a stored hash. */
export function matchesStoredHash(secret: string, storedHash: string): boolean {
  const expected = Buffer.from(hashOpaqueSecret(secret), "utf8");
  const actual = Buffer.from(storedHash, "utf8");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
