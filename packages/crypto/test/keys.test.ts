import { WrappedAccountKey } from "@chorus/protocol";
import { hash } from "@node-rs/argon2";
import { describe, expect, it } from "vitest";
import {
  AccountKey,
  CryptoError,
  changePassword,
  createAccountKey,
  deriveKek,
  newKdfParams,
  unwrapAccountKey,
  wrapAccountKey,
} from "../src/index.js";

/** Cheap parameters keep the tests fast; the format is the same as the default's. */
const cost = { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 };
const userId = "5b4d5c0e-9d0e-4a53-8f3e-0b8f0d4f5c11";

async function rejection(promise: Promise<unknown>): Promise<CryptoError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    return error as CryptoError;
  }
  throw new Error("expected a CryptoError, nothing was thrown");
}

describe("account key", () => {
  it("derives its key-encryption key with Argon2id v1.3 and the stored parameters", async () => {
    const kdf = newKdfParams(cost);
    const raw = await deriveKek("correct horse battery staple", kdf);
    // The same derivation through the package's PHC-string API, which defaults to Argon2id.
    const phc = await hash("correct horse battery staple", {
      memoryCost: kdf.memoryKiB,
      timeCost: kdf.iterations,
      parallelism: kdf.parallelism,
      salt: Buffer.from(kdf.salt, "base64url"),
    });
    expect(phc.startsWith(`$argon2id$v=19$m=${kdf.memoryKiB},t=1,p=1$`)).toBe(true);
    expect(phc.split("$").at(-1)).toBe(Buffer.from(raw).toString("base64").replace(/=+$/, ""));
  });

  it("wraps a random master key that the right password opens, and no other", async () => {
    const { key, wrapped } = await createAccountKey(userId, "correct horse battery staple", {
      cost,
    });
    expect(WrappedAccountKey.parse(wrapped)).toEqual(wrapped);
    expect(wrapped.epoch).toBe(1);
    expect(JSON.stringify(key)).not.toContain(key.exportKey().key);

    const opened = await unwrapAccountKey(wrapped, "correct horse battery staple", userId);
    expect(opened.sameKeyAs(key)).toBe(true);

    const wrong = await rejection(
      unwrapAccountKey(wrapped, "Correct horse battery staple", userId),
    );
    expect(wrong.code).toBe("wrong_password");
    // Another user's wrapped key does not open as this user's, even with the right password.
    const other = await rejection(
      unwrapAccountKey(
        wrapped,
        "correct horse battery staple",
        "0c6a3e59-8d2b-4b0b-9f55-7c0b5b1b2a10",
      ),
    );
    expect(other.code).toBe("wrong_password");
  });

  it("two accounts get different master keys and salts", async () => {
    const a = await createAccountKey(userId, "same password here", { cost });
    const b = await createAccountKey(userId, "same password here", { cost });
    expect(a.key.sameKeyAs(b.key)).toBe(false);
    expect(a.wrapped.kdf.salt).not.toBe(b.wrapped.kdf.salt);
  });

  it("a password change rewraps the same master key; the old password no longer opens it", async () => {
    const first = await createAccountKey(userId, "first password 1", { cost });
    const changed = await changePassword(
      first.wrapped,
      "first password 1",
      "second password 2",
      userId,
      { ...cost, iterations: 2 },
    );
    expect(changed.key.sameKeyAs(first.key)).toBe(true);
    expect(changed.wrapped.kdf.iterations).toBe(2);
    expect(changed.wrapped.kdf.salt).not.toBe(first.wrapped.kdf.salt);
    const reopened = await unwrapAccountKey(changed.wrapped, "second password 2", userId);
    expect(reopened.sameKeyAs(first.key)).toBe(true);
    expect(
      (await rejection(unwrapAccountKey(changed.wrapped, "first password 1", userId))).code,
    ).toBe("wrong_password");
    // A wrong old password changes nothing and says so.
    expect(
      (await rejection(changePassword(first.wrapped, "nope nope", "x y z w", userId, cost))).code,
    ).toBe("wrong_password");
  });

  it("an altered wrapped key (epoch, KDF parameters, nonce or ciphertext) does not open", async () => {
    const { wrapped } = await createAccountKey(userId, "pw for tamper test", { cost });
    const flip = (text: string) =>
      `${text.slice(0, 5)}${text[5] === "A" ? "B" : "A"}${text.slice(6)}`;
    const altered = [
      { ...wrapped, epoch: 2 },
      { ...wrapped, kdf: { ...wrapped.kdf, iterations: 2 } },
      { ...wrapped, n: flip(wrapped.n) },
      { ...wrapped, c: flip(wrapped.c) },
    ];
    for (const candidate of altered) {
      expect(
        (await rejection(unwrapAccountKey(candidate, "pw for tamper test", userId))).code,
      ).toBe("wrong_password");
    }
    expect((await rejection(unwrapAccountKey({ v: 2 }, "pw", userId))).code).toBe("invalid_input");
  });

  it("an empty password is refused with a typed error", async () => {
    const key = AccountKey.generate(userId);
    expect((await rejection(wrapAccountKey(key, "", cost))).code).toBe("invalid_input");
  });

  it("NFC and NFD spellings of one password open the same key", async () => {
    const { key, wrapped } = await createAccountKey(userId, "caf\u00e9 au lait", { cost });
    const opened = await unwrapAccountKey(wrapped, "cafe\u0301 au lait", userId);
    expect(opened.sameKeyAs(key)).toBe(true);
  });

  it("exports and imports the key for the device's secret storage", () => {
    const key = AccountKey.generate(userId, 3);
    const again = AccountKey.import(key.exportKey());
    expect(again.sameKeyAs(key)).toBe(true);
    expect(again.epoch).toBe(3);
  });
});
