import type { JsonValue, OpInput } from "@chorus/protocol";
import { isSealedValue, jsonByteLength, MAX_VALUE_BYTES } from "@chorus/protocol";
import type { AccountKey } from "./account-key.js";
import { CryptoError } from "./errors.js";
import { openValue, sealValue, type ValueContext } from "./seal.js";

/** What sealing needs of an op: a pushed op, a pulled one, or an engine's pending row. */
export type SealableOp = Pick<
  OpInput,
  "operationId" | "lamportTs" | "entity" | "entityId" | "field" | "op" | "value"
>;

function isFieldObject(op: SealableOp): op is SealableOp & { value: Record<string, JsonValue> } {
  return (
    op.op === "insert" &&
    op.field === null &&
    typeof op.value === "object" &&
    op.value !== null &&
    !Array.isArray(op.value)
  );
}

function contextOf(userId: string, op: SealableOp, field: string | null): ValueContext {
  return {
    userId,
    entity: op.entity,
    entityId: op.entityId,
    field,
    operationId: op.operationId,
    lamportTs: op.lamportTs,
  };
}

/**
 * The op with its value sealed, everything else unchanged (the server keeps ordering and
 * compacting on the clear metadata):
 * - `set`, and `insert` with a field: the value (null included) becomes one envelope;
 * - `insert` with `field: null` and an object of initial fields: each field's value is sealed
 *   for that field, the keys stay (compaction reads them);
 * - `delete`, `noop`, and an `insert` with no value carry nothing to seal.
 * Seal when the op has its final operationId and lamportTs: a re-stamped op must be resealed.
 */
export function sealOp<T extends SealableOp>(key: AccountKey, userId: string, op: T): T {
  if (op.op === "delete" || op.op === "noop") return op;
  if (op.op === "insert" && op.field === null) {
    if (!isFieldObject(op)) return op;
    const sealed: Record<string, JsonValue> = {};
    for (const [field, value] of Object.entries(op.value)) {
      sealed[field] = sealValue(key, value, contextOf(userId, op, field));
    }
    const bytes = jsonByteLength(sealed);
    if (bytes > MAX_VALUE_BYTES) {
      throw new CryptoError(
        "value_too_large",
        `the sealed initial fields are ${bytes} bytes, over the ${MAX_VALUE_BYTES}-byte limit of one value; insert fewer fields and set the rest`,
        { limit: MAX_VALUE_BYTES, actual: bytes },
      );
    }
    return { ...op, value: sealed };
  }
  return { ...op, value: sealValue(key, op.value, contextOf(userId, op, op.field)) };
}

export interface OpenOptions {
  /**
   * Accept a plaintext value where a sealed one belongs (ops written before the account turned
   * encryption on). Off by default: the server must not be able to slip plaintext in.
   */
  allowPlaintext?: boolean;
}

/** The op with its value opened; the inverse of sealOp, with openValue's typed errors. */
export function openOp<T extends SealableOp>(
  key: AccountKey,
  userId: string,
  op: T,
  options: OpenOptions = {},
): T {
  if (op.op === "delete" || op.op === "noop") return op;
  const open = (value: unknown, field: string | null): JsonValue => {
    if (!isSealedValue(value)) {
      if (options.allowPlaintext) return value as JsonValue;
      throw new CryptoError(
        "not_sealed",
        `${op.entity}/${op.entityId}${field ? `.${field}` : ""} (op ${op.operationId}) carries a plaintext value in an encrypted account`,
      );
    }
    return openValue(key, value, contextOf(userId, op, field));
  };
  if (op.op === "insert" && op.field === null) {
    if (op.value === null) return op;
    if (isSealedValue(op.value) || !isFieldObject(op)) {
      // An envelope is never a valid object of initial fields ("$sealed" is no field name).
      throw new CryptoError(
        "tampered",
        `op ${op.operationId}: an insert's initial fields are malformed`,
      );
    }
    const opened: Record<string, JsonValue> = {};
    for (const [field, value] of Object.entries(op.value)) opened[field] = open(value, field);
    return { ...op, value: opened };
  }
  return { ...op, value: open(op.value, op.field) };
}
