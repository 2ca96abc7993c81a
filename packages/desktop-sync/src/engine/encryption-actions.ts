import type { AccountKey } from "@chorus/crypto";
import {
  changePassword,
  createAccountKey,
  isCryptoError,
  type KdfCost,
  unwrapAccountKey,
} from "@chorus/crypto";
import { parseSyncError } from "@chorus/protocol";
import { EngineError } from "../errors.js";
import type { SyncClient } from "../sync/client.js";
import { classifyFailure } from "../sync/failure.js";
import type { AccountEncryption, ServerKeyView } from "./encryption.js";

/*
 * The encryption password's life on a device (ADR 0018): set it on the first device, enter it
 * on the others, change it, or reset the key when it is lost. Each reads the account's key
 * from the server first (never the cached state: these are the moments it must be current).
 */

type Trpc = SyncClient["trpc"];

export interface KeyActionDeps {
  trpc: Trpc;
  encryption: AccountEncryption;
  userId: string;
  signal: () => AbortSignal;
  /** The Argon2id cost (default: @chorus/crypto's; tests lower it). */
  kdfCost?: KdfCost | undefined;
}

/** Passwords the KDF takes; a blank one is refused before anything is derived. */
export function checkPassword(password: string, what = "the encryption password"): void {
  if (password.trim().length === 0) {
    throw new EngineError("invalid_input", `${what} cannot be empty`, {});
  }
  if (password.length > 1024) {
    throw new EngineError("invalid_input", `${what} is longer than 1024 characters`, {});
  }
}

function serverFailure(error: unknown, doing: string): EngineError {
  if (error instanceof EngineError) return error;
  const failure = classifyFailure(error);
  if (failure.kind === "revoked") {
    return new EngineError("device_revoked", failure.message, {});
  }
  return new EngineError(
    failure.kind === "offline" ? "offline" : "server_refused",
    `could not ${doing}: ${failure.message}`,
    {},
  );
}

/** The account's wrapped key as the server holds it now (recorded as the cached state). */
export async function readServerKey(deps: KeyActionDeps): Promise<ServerKeyView | null> {
  try {
    const { key } = await deps.trpc.keys.get.query(undefined, { signal: deps.signal() });
    deps.encryption.record(key);
    return key;
  } catch (error) {
    throw serverFailure(error, "read the account's encryption key from the server");
  }
}

/** First device: a new master key wrapped under `password`; refused when the account has one. */
export async function setPassword(deps: KeyActionDeps, password: string): Promise<AccountKey> {
  checkPassword(password);
  const existing = await readServerKey(deps);
  if (existing) throw keyExists();
  const { key, wrapped } = await createAccountKey(deps.userId, password, {
    ...(deps.kdfCost ? { cost: deps.kdfCost } : {}),
  });
  try {
    const { key: stored } = await deps.trpc.keys.set.mutate({ wrapped }, { signal: deps.signal() });
    deps.encryption.record(stored);
  } catch (error) {
    if (parseSyncError(error)?.type === "key_exists") {
      await readServerKey(deps).catch(() => null);
      throw keyExists();
    }
    throw serverFailure(error, "store the encryption key on the server");
  }
  deps.encryption.keep(key);
  return key;
}

function keyExists(): EngineError {
  return new EngineError(
    "key_exists",
    "this account already has an encryption password (set on another device): enter that password to unlock this device instead",
    {},
  );
}

function notSet(): EngineError {
  return new EngineError(
    "encryption_not_set",
    "this account has no encryption password yet: set one first",
    {},
  );
}

function wrongPassword(): EngineError {
  return new EngineError(
    "wrong_password",
    "that is not the account's encryption password; nothing was changed (if it is lost, a reset starts a new key from one device's library, and data only the old key opens cannot be recovered)",
    {},
  );
}

/** Another device: opens the account's key with `password` and keeps it. */
export async function unlock(deps: KeyActionDeps, password: string): Promise<AccountKey> {
  checkPassword(password);
  const current = await readServerKey(deps);
  if (!current) throw notSet();
  try {
    const key = await unwrapAccountKey(current.wrapped, password, deps.userId);
    deps.encryption.keep(key);
    return key;
  } catch (error) {
    if (isCryptoError(error, "wrong_password")) throw wrongPassword();
    if (isCryptoError(error)) {
      throw new EngineError("server_refused", `the stored key is unusable: ${error.message}`, {});
    }
    throw error;
  }
}

/** Rewraps the same master key under `next`; every device keeps working. */
export async function changeEncryptionPassword(
  deps: KeyActionDeps,
  current: string,
  next: string,
): Promise<void> {
  checkPassword(current, "the current encryption password");
  checkPassword(next, "the new encryption password");
  const key = await readServerKey(deps);
  if (!key) throw notSet();
  let rewrapped: Awaited<ReturnType<typeof changePassword>>;
  try {
    rewrapped = await changePassword(key.wrapped, current, next, deps.userId, deps.kdfCost);
  } catch (error) {
    if (isCryptoError(error, "wrong_password")) throw wrongPassword();
    throw error;
  }
  try {
    const { key: stored } = await deps.trpc.keys.rewrap.mutate(
      { expectedVersion: key.version, wrapped: rewrapped.wrapped },
      { signal: deps.signal() },
    );
    deps.encryption.record(stored);
  } catch (error) {
    throw keyChangedOr(error, "store the rewrapped key");
  }
  // The password opened it, so this device may keep the key (it may not have held it yet).
  deps.encryption.keep(rewrapped.key);
}

function keyChangedOr(error: unknown, doing: string): EngineError {
  const sync = parseSyncError(error);
  if (sync?.type === "key_version_conflict" || sync?.type === "key_missing") {
    return new EngineError(
      "key_changed",
      "another device changed the account's encryption key meanwhile; nothing was changed here: look at the status and try again",
      {},
    );
  }
  return serverFailure(error, doing);
}

/**
 * The password is lost: a new master key (one epoch higher) wrapped under `password`. What
 * only the old key opens cannot be read by a device that only has the new one; the caller
 * re-states this device's library under the new key.
 */
export async function resetKey(deps: KeyActionDeps, password: string): Promise<AccountKey> {
  checkPassword(password);
  const current = await readServerKey(deps);
  if (!current) throw notSet();
  const { key, wrapped } = await createAccountKey(deps.userId, password, {
    epoch: current.epoch + 1,
    ...(deps.kdfCost ? { cost: deps.kdfCost } : {}),
  });
  try {
    const { key: stored } = await deps.trpc.keys.reset.mutate(
      { expectedVersion: current.version, wrapped },
      { signal: deps.signal() },
    );
    deps.encryption.record(stored);
  } catch (error) {
    throw keyChangedOr(error, "store the new key");
  }
  deps.encryption.keep(key);
  return key;
}
