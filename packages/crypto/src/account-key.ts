import { type KdfParams, WrappedAccountKey } from "@chorus/protocol";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { fromBase64url, random, toBase64url, utf8Bytes } from "./bytes.js";
import { CryptoError } from "./errors.js";
import { deriveKek, type KdfCost, newKdfParams } from "./kdf.js";

export const MASTER_KEY_BYTES = 32;
const NONCE_BYTES = 24;

const secrets = new WeakMap<AccountKey, Uint8Array>();

/**
 * An account's master key of one epoch, for one user. The key bytes are kept out of the object's
 * enumerable state (so logging or JSON.stringify never shows them); `exportKey` hands them out
 * on purpose, for the device's own secret storage.
 */
export class AccountKey {
  private constructor(
    readonly userId: string,
    readonly epoch: number,
    bytes: Uint8Array,
  ) {
    if (bytes.byteLength !== MASTER_KEY_BYTES) {
      throw new CryptoError("invalid_input", `a master key is ${MASTER_KEY_BYTES} bytes`);
    }
    secrets.set(this, Uint8Array.from(bytes));
  }

  /** A new random master key (a new account, or a reset to `epoch`). */
  static generate(userId: string, epoch = 1): AccountKey {
    return new AccountKey(normalizeId(userId), checkEpoch(epoch), random(MASTER_KEY_BYTES));
  }

  /** A key the device stored earlier with `exportKey`. */
  static import(exported: ExportedAccountKey): AccountKey {
    return new AccountKey(
      normalizeId(exported.userId),
      checkEpoch(exported.epoch),
      fromBase64url(exported.key),
    );
  }

  /** The key bytes, base64url, with what they belong to: for the device's secret storage only. */
  exportKey(): ExportedAccountKey {
    return { userId: this.userId, epoch: this.epoch, key: toBase64url(keyBytes(this)) };
  }

  /** Whether two handles hold the same key bytes (constant time over the bytes). */
  sameKeyAs(other: AccountKey): boolean {
    const a = keyBytes(this);
    const b = keyBytes(other);
    let diff = a.length ^ b.length;
    for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
    return diff === 0 && this.userId === other.userId && this.epoch === other.epoch;
  }

  toJSON(): { userId: string; epoch: number } {
    return { userId: this.userId, epoch: this.epoch };
  }
}

export interface ExportedAccountKey {
  userId: string;
  epoch: number;
  key: string;
}

/** The raw key bytes, for this package's ciphers only. */
export function keyBytes(key: AccountKey): Uint8Array {
  const bytes = secrets.get(key);
  if (!bytes) throw new CryptoError("invalid_input", "not an AccountKey made by @chorus/crypto");
  return bytes;
}

export function normalizeId(id: string): string {
  return id.toLowerCase();
}

function checkEpoch(epoch: number): number {
  if (!Number.isSafeInteger(epoch) || epoch < 1) {
    throw new CryptoError("invalid_input", `a key epoch is a whole number >= 1 (got ${epoch})`);
  }
  return epoch;
}

/** Binds a wrapped key to its user, epoch and KDF parameters. */
function wrapAssociatedData(userId: string, wrapped: Omit<WrappedAccountKey, "n" | "c">) {
  const { kdf } = wrapped;
  return utf8Bytes(
    JSON.stringify([
      "chorus/account-key",
      wrapped.v,
      normalizeId(userId),
      wrapped.epoch,
      kdf.algorithm,
      kdf.memoryKiB,
      kdf.iterations,
      kdf.parallelism,
      kdf.salt,
    ]),
  );
}

/** Wraps `key` under `password` with fresh KDF parameters (a fresh salt) at `cost`. */
export async function wrapAccountKey(
  key: AccountKey,
  password: string,
  cost?: KdfCost,
): Promise<WrappedAccountKey> {
  const kdf: KdfParams = newKdfParams(cost);
  const kek = await deriveKek(password, kdf);
  const header = { v: 1 as const, epoch: key.epoch, kdf };
  const nonce = random(NONCE_BYTES);
  const sealed = xchacha20poly1305(kek, nonce, wrapAssociatedData(key.userId, header)).encrypt(
    keyBytes(key),
  );
  return WrappedAccountKey.parse({ ...header, n: toBase64url(nonce), c: toBase64url(sealed) });
}

/** Parses what the server returned as a wrapped key (typed error when it is not one). */
export function parseWrappedKey(value: unknown): WrappedAccountKey {
  const parsed = WrappedAccountKey.safeParse(value);
  if (!parsed.success) {
    throw new CryptoError(
      "invalid_input",
      `not a wrapped account key: ${parsed.error.issues[0]?.message}`,
    );
  }
  return parsed.data;
}

/**
 * Opens a wrapped key with `password`. A wrong password is `CryptoError("wrong_password")`;
 * so is a wrapped key that was altered, or that belongs to another user.
 */
export async function unwrapAccountKey(
  wrapped: unknown,
  password: string,
  userId: string,
): Promise<AccountKey> {
  const parsed = parseWrappedKey(wrapped);
  const kek = await deriveKek(password, parsed.kdf);
  let bytes: Uint8Array;
  try {
    bytes = xchacha20poly1305(
      kek,
      fromBase64url(parsed.n),
      wrapAssociatedData(userId, parsed),
    ).decrypt(fromBase64url(parsed.c));
  } catch {
    throw new CryptoError(
      "wrong_password",
      "the encryption password is wrong (or the stored key is not this account's)",
    );
  }
  return AccountKey.import({ userId, epoch: parsed.epoch, key: toBase64url(bytes) });
}

export interface NewAccountKey {
  key: AccountKey;
  wrapped: WrappedAccountKey;
}

/** A new account key (epoch 1, or `epoch` for a reset) wrapped under `password`. */
export async function createAccountKey(
  userId: string,
  password: string,
  options: { epoch?: number; cost?: KdfCost } = {},
): Promise<NewAccountKey> {
  const key = AccountKey.generate(userId, options.epoch ?? 1);
  return { key, wrapped: await wrapAccountKey(key, password, options.cost) };
}

/**
 * A password change: the same master key, wrapped anew under `newPassword` (with a new salt and,
 * when given, a new cost). Nothing sealed under the key changes.
 */
export async function changePassword(
  wrapped: unknown,
  oldPassword: string,
  newPassword: string,
  userId: string,
  cost?: KdfCost,
): Promise<NewAccountKey> {
  const key = await unwrapAccountKey(wrapped, oldPassword, userId);
  return { key, wrapped: await wrapAccountKey(key, newPassword, cost) };
}
