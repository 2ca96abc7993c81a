import { z } from "zod";

/*
 * End-to-end encryption on the wire (docs/design.md#encryption-and-attachments). The sync server
 * stores and forwards these shapes without being able to open them; the crypto itself lives in
 * @chorus/crypto (Node and Electron main only). What is here is what every part must recognise:
 * a sealed op value (so the console shows a lock instead of garbage, and the engine tells a
 * sealed value from plaintext), the wrapped account key the server keeps, and blob references.
 */

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Base64url (no padding) of exactly `bytes` bytes, or of `min`..`max` bytes. */
function base64url(name: string, min: number, max = min) {
  const minChars = Math.ceil((min * 4) / 3);
  const maxChars = Math.ceil((max * 4) / 3);
  return z
    .string()
    .regex(BASE64URL, `${name} must be base64url without padding`)
    .min(minChars, `${name} is too short`)
    .max(maxChars, `${name} is too long`);
}

/** A blob's content address: the lower-case hex SHA-256 of its bytes. */
export const Sha256Hex = z
  .string()
  .regex(/^[0-9a-f]{64}$/, "must be a SHA-256 as 64 lower-case hex digits");

/**
 * The key under which a value lists the blobs it references, anywhere inside the value. The
 * server reads these (and only these) to keep referenced blobs through garbage collection; in a
 * sealed value the list sits in the envelope, in clear, and is bound into the seal.
 */
export const BLOB_REFS_KEY = "$blobs";
/** Most blobs one value may reference. */
export const MAX_BLOB_REFS_PER_VALUE = 64;
export const BlobRefs = z.array(Sha256Hex).max(MAX_BLOB_REFS_PER_VALUE);

/** The envelope key that marks a sealed value; its number is the envelope version. */
export const SEALED_KEY = "$sealed";
/** The envelope version this build writes. */
export const SEALED_VERSION = 1;

/**
 * Envelope version 1: XChaCha20-Poly1305 under the account's master key of epoch `e`, with a
 * random 24-byte nonce `n`; `c` is ciphertext and tag. The associated data (not sent: both ends
 * rebuild it) binds the value to its user, entity, entity id, field, operation id, Lamport
 * stamp, key epoch and blob list — see @chorus/crypto's `valueAssociatedData`.
 */
export const SealedValueV1 = z
  .object({
    [SEALED_KEY]: z.literal(1),
    e: z.int().positive(),
    n: base64url("n (nonce)", 24),
    c: base64url("c (ciphertext)", 16, 64 * 1024),
    [BLOB_REFS_KEY]: BlobRefs.optional(),
  })
  .strict();
export type SealedValueV1 = z.infer<typeof SealedValueV1>;

/**
 * Whether `value` is a sealed envelope of any version (this build's or a later one): a plain
 * object carrying the `$sealed` marker with a positive whole version. Plaintext values of an
 * account that does not encrypt never carry that key.
 */
export function isSealedValue(value: unknown): value is { [SEALED_KEY]: number } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const version = (value as Record<string, unknown>)[SEALED_KEY];
  return typeof version === "number" && Number.isInteger(version) && version > 0;
}

/** The key epoch a sealed value names; 0 when it names none (a reader can use no key for it). */
function epochOf(sealed: unknown): number {
  const epoch = (sealed as { e?: unknown }).e;
  return typeof epoch === "number" && Number.isInteger(epoch) && epoch > 0 ? epoch : 0;
}

/** The parts of an op that seal and open look at (a pushed, pulled or queued op). */
interface KeyedOp {
  op: string;
  field: string | null;
  value: unknown;
}

/**
 * What an op carries that a key applies to, as @chorus/crypto's sealOp seals it: the epochs of
 * its sealed values, and how many values it carries in clear that an account with a key would
 * have sealed. A `set` (and an `insert` with a field) is one value, null included; an `insert`
 * with `field: null` and an object of initial fields is one value per field; `delete`, `noop`
 * and an `insert` with no object carry none.
 */
export function sealedEpochsOf(op: KeyedOp): { epochs: number[]; plain: number } {
  if (op.op === "delete" || op.op === "noop") return { epochs: [], plain: 0 };
  const values =
    op.op === "insert" && op.field === null
      ? typeof op.value === "object" && op.value !== null && !Array.isArray(op.value)
        ? Object.values(op.value as Record<string, unknown>)
        : []
      : [op.value];
  const epochs: number[] = [];
  let plain = 0;
  for (const value of values) {
    if (isSealedValue(value)) epochs.push(epochOf(value));
    else plain += 1;
  }
  return { epochs, plain };
}

/**
 * What a push needs of the account's key, read without opening anything: the lowest and the
 * highest epoch its sealed values name (null when none is sealed) and whether any value is in
 * clear. The server compares it with the account's key under the push's lock: a batch sealed
 * under another epoch than the current one, plaintext in an account with a key, or a sealed
 * value in an account without one is refused whole.
 */
export interface BatchKeyUse {
  minEpoch: number | null;
  maxEpoch: number | null;
  plain: boolean;
}

export function batchKeyUse(ops: readonly KeyedOp[]): BatchKeyUse {
  let minEpoch: number | null = null;
  let maxEpoch: number | null = null;
  let plain = false;
  for (const op of ops) {
    const use = sealedEpochsOf(op);
    if (use.plain > 0) plain = true;
    for (const epoch of use.epochs) {
      minEpoch = minEpoch === null ? epoch : Math.min(minEpoch, epoch);
      maxEpoch = maxEpoch === null ? epoch : Math.max(maxEpoch, epoch);
    }
  }
  return { minEpoch, maxEpoch, plain };
}

/** How an op value is shown to someone who cannot open it (the admin console). */
export type ValueSummary =
  | { kind: "null" }
  | { kind: "plain"; bytes: number }
  | { kind: "sealed"; version: number; epoch: number | null; bytes: number; blobs: number }
  /** an insert's object of initial fields, some or all of them sealed */
  | { kind: "sealed_fields"; fields: number; sealed: number; bytes: number };

const utf8 = new TextEncoder();
const jsonBytes = (value: unknown) => utf8.encode(JSON.stringify(value) ?? "").byteLength;

/** Describes a stored value without showing its content when it is sealed. */
export function summarizeValue(value: unknown): ValueSummary {
  if (value === null || value === undefined) return { kind: "null" };
  if (isSealedValue(value)) {
    const record = value as Record<string, unknown>;
    const blobs = record[BLOB_REFS_KEY];
    return {
      kind: "sealed",
      version: value[SEALED_KEY],
      epoch: typeof record.e === "number" ? record.e : null,
      bytes: jsonBytes(value),
      blobs: Array.isArray(blobs) ? blobs.length : 0,
    };
  }
  if (typeof value === "object" && !Array.isArray(value)) {
    const fields = Object.values(value as Record<string, unknown>);
    const sealed = fields.filter(isSealedValue).length;
    if (sealed > 0) {
      return { kind: "sealed_fields", fields: fields.length, sealed, bytes: jsonBytes(value) };
    }
  }
  return { kind: "plain", bytes: jsonBytes(value) };
}

/** Key derivation of a wrapped account key; stored beside it so it can be raised later. */
export const KdfParams = z
  .object({
    algorithm: z.literal("argon2id"),
    /** Argon2 memory in KiB (8 MiB .. 4 GiB). */
    memoryKiB: z
      .int()
      .min(8 * 1024)
      .max(4 * 1024 * 1024),
    iterations: z.int().min(1).max(64),
    parallelism: z.int().min(1).max(16),
    salt: base64url("salt", 16, 64),
  })
  .strict();
export type KdfParams = z.infer<typeof KdfParams>;

/**
 * An account's master key wrapped (XChaCha20-Poly1305) under a key derived from the encryption
 * password. `epoch` is the key generation: a reset makes a new master key one epoch higher.
 */
export const WrappedAccountKey = z
  .object({
    v: z.literal(1),
    epoch: z.int().positive(),
    kdf: KdfParams,
    n: base64url("n (nonce)", 24),
    /** the 32-byte master key and the 16-byte tag */
    c: base64url("c (wrapped key)", 48),
  })
  .strict();
export type WrappedAccountKey = z.infer<typeof WrappedAccountKey>;
