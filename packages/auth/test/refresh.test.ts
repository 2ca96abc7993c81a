import { describe, expect, it } from "vitest";
import {
  generateDesktopCode,
  generateRefreshToken,
  hashDesktopCode,
  hashRefreshToken,
  matchesStoredHash,
} from "../src/index.js";

describe("opaque refresh tokens and desktop codes", () => {
  it("are 32 random bytes in base64url (43 characters), never repeated", () => {
    for (const generate of [generateRefreshToken, generateDesktopCode]) {
      const secret = generate();
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(secret, "base64url")).toHaveLength(32);
      expect(generate()).not.toBe(secret);
    }
  });

  it("are stored as their SHA-256 in hex", () => {
    // SHA-256("abc"), FIPS 180-2 test vector.
    const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    expect(hashRefreshToken("abc")).toBe(abc);
    expect(hashDesktopCode("abc")).toBe(abc);
  });

  it("match their stored hash, and only theirs", () => {
    const token = generateRefreshToken();
    expect(matchesStoredHash(token, hashRefreshToken(token))).toBe(true);
    expect(matchesStoredHash(generateRefreshToken(), hashRefreshToken(token))).toBe(false);
    expect(matchesStoredHash(token, "")).toBe(false);
  });
});
