import {
  BLOB_REFS_KEY,
  isSealedValue,
  type JsonValue,
  jsonByteLength,
  MAX_BLOB_REFS_PER_VALUE,
  MAX_VALUE_BYTES,
  SEALED_KEY,
  SealedValueV1,
  Sha256Hex,
} from "@chorus/protocol";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { type AccountKey, keyBytes, normalizeId } from "./account-key.js";
import { fromBase64url, random, toBase64url, utf8Bytes, utf8Text } from "./bytes.js";
import { CryptoError } from "./errors.js";

const NONCE_BYTES = 24;

/**
 * Where a value lives: everything the seal binds it to besides the key epoch and its blob list.
 * A sealed value opens only under exactly the context it was sealed for, so the server cannot
 * move it to another user, entity, entity id, field or op, nor replay it under another stamp.
 */
export interface ValueContext {
  userId: string;
  entity: string;
  entityId: string;
  /** The field the value is written to (for an insert's object of initial fields: that key). */
  field: string | null;
  operationId: string;
  lamportTs: number;
}

/** The associated data of envelope version 1: a JSON array, so no two contexts share bytes. */
export function valueAssociatedData(
  context: ValueContext,
  epoch: number,
  blobs: readonly string[],
): Uint8Array {
  return utf8Bytes(
    JSON.stringify([
      "chorus/op-value",
      1,
      epoch,
      normalizeId(context.userId),
      context.entity,
      context.entityId,
      context.field,
      normalizeId(context.operationId),
      context.lamportTs,
      blobs,
    ]),
  );
}

/** The blob references anywhere inside a plaintext value (`"$blobs": [sha256, ...]`). */
export function blobRefsIn(value: JsonValue): string[] {
  const found = new Set<string>();
  const visit = (node: JsonValue) => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
    } else if (node !== null && typeof node === "object") {
      for (const [key, item] of Object.entries(node)) {
        if (key === BLOB_REFS_KEY && Array.isArray(item)) {
          for (const ref of item) {
            if (!Sha256Hex.safeParse(ref).success) {
              throw new CryptoError(
                "invalid_input",
                `${BLOB_REFS_KEY} holds ${JSON.stringify(ref)}, not a lower-case hex SHA-256`,
              );
            }
            found.add(ref as string);
          }
        } else {
          visit(item as JsonValue);
        }
      }
    }
  };
  visit(value);
  if (found.size > MAX_BLOB_REFS_PER_VALUE) {
    throw new CryptoError(
      "invalid_input",
      `a value references ${found.size} blobs, over the ${MAX_BLOB_REFS_PER_VALUE} allowed`,
    );
  }
  return [...found].sort();
}

/**
 * Seals one value for `context` under `key`: an envelope `{ "$sealed": 1, e, n, c }` with the
 * blob references of the plaintext copied in clear (`$blobs`, bound into the seal) so the server
 * keeps those blobs. Refused with `value_too_large` when the envelope would not fit
 * MAX_VALUE_BYTES (base64 makes a sealed value about 4/3 of its plaintext plus 90 bytes).
 */
export function sealValue(key: AccountKey, value: JsonValue, context: ValueContext): SealedValueV1 {
  const blobs = blobRefsIn(value);
  const nonce = random(NONCE_BYTES);
  const ciphertext = xchacha20poly1305(
    keyBytes(key),
    nonce,
    valueAssociatedData(context, key.epoch, blobs),
  ).encrypt(utf8Bytes(JSON.stringify(value)));
  const envelope: SealedValueV1 = {
    [SEALED_KEY]: 1,
    e: key.epoch,
    n: toBase64url(nonce),
    c: toBase64url(ciphertext),
    ...(blobs.length > 0 ? { [BLOB_REFS_KEY]: blobs } : {}),
  };
  const bytes = jsonByteLength(envelope);
  if (bytes > MAX_VALUE_BYTES) {
    throw new CryptoError(
      "value_too_large",
      `the sealed value is ${bytes} bytes, over the ${MAX_VALUE_BYTES}-byte limit of one value; split it`,
      { limit: MAX_VALUE_BYTES, actual: bytes },
    );
  }
  return envelope;
}

function decodeCanonical(text: string): Uint8Array | null {
  const bytes = fromBase64url(text);
  // Base64 has spare bits in its last character: two spellings of the same bytes. Only the
  // canonical one is accepted, so that every changed character of an envelope is refused.
  return toBase64url(bytes) === text ? bytes : null;
}

/**
 * Opens a sealed value sealed for exactly `context`. Typed errors: `not_sealed` (a plaintext
 * value), `unsupported_envelope` (a later envelope version), `key_epoch_mismatch` (sealed under
 * another epoch: fetch the account's current key), `tampered` (anything changed or moved).
 */
export function openValue(key: AccountKey, sealed: unknown, context: ValueContext): JsonValue {
  if (!isSealedValue(sealed)) {
    throw new CryptoError("not_sealed", "the value is not sealed");
  }
  const version = sealed[SEALED_KEY];
  if (version !== 1) {
    throw new CryptoError(
      "unsupported_envelope",
      `sealed with envelope version ${version}; this build reads version 1: update the app`,
      { version },
    );
  }
  const parsed = SealedValueV1.safeParse(sealed);
  if (!parsed.success) {
    throw new CryptoError("tampered", "the sealed value is malformed");
  }
  const envelope = parsed.data;
  if (envelope.e !== key.epoch) {
    throw new CryptoError(
      "key_epoch_mismatch",
      `sealed under key epoch ${envelope.e}, the key at hand is epoch ${key.epoch}`,
      { expected: key.epoch, actual: envelope.e },
    );
  }
  const blobs = envelope[BLOB_REFS_KEY] ?? [];
  const nonce = decodeCanonical(envelope.n);
  const ciphertext = decodeCanonical(envelope.c);
  if (!nonce || !ciphertext || nonce.byteLength !== NONCE_BYTES) {
    throw new CryptoError("tampered", "the sealed value is malformed");
  }
  let plaintext: Uint8Array;
  try {
    plaintext = xchacha20poly1305(
      keyBytes(key),
      nonce,
      valueAssociatedData(context, envelope.e, blobs),
    ).decrypt(ciphertext);
  } catch {
    throw new CryptoError(
      "tampered",
      `the sealed value of ${context.entity}/${context.entityId}${context.field ? `.${context.field}` : ""} (op ${context.operationId}) does not authenticate: it was altered or moved`,
    );
  }
  try {
    return JSON.parse(utf8Text(plaintext)) as JsonValue;
  } catch {
    // Authentic but not JSON: sealed by something other than sealValue.
    throw new CryptoError("unsupported_envelope", "the sealed plaintext is not JSON");
  }
}
