import { describe, expect, it } from "vitest";
import { isWeakPassword } from "../src/server/password-strength";

describe("isWeakPassword (zxcvbn)", () => {
  it("refuses what length alone admitted: common, repeated and sequential passwords", () => {
    for (const password of ["password", "12345678", "aaaaaaaa", "qwertyuiop", "Password1!"]) {
      expect(isWeakPassword(password), password).toBe(true);
    }
  });

  it("refuses a password made of the account's own email or name", () => {
    expect(isWeakPassword("Zorblaxian!Quff")).toBe(false);
    expect(isWeakPassword("Zorblaxian!Quff", ["zorblaxian.quff@example.com"])).toBe(true);
  });

  it("accepts a long passphrase and a random password", () => {
    expect(isWeakPassword("correct horse battery staple")).toBe(false);
    expect(isWeakPassword("vX9#qL2!mR7$tP")).toBe(false);
  });
});
