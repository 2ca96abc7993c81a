import { z } from "zod";
import {
  ENTITY_NAME_PATTERN,
  FIELD_NAME_PATTERN,
  jsonByteLength,
  MAX_ENTITY_ID_LENGTH,
  MAX_VALUE_BYTES,
} from "./limits.js";
import { isPlainJson, JsonValue, LamportTs, OpId, storableText, Uuid, wireString } from "./wire.js";

/**
 * What an op does:
 * - `set`: writes one field (`field` required);
 * - `insert`: creates the entity; with `field: null` its `value` is an object of initial
 *   fields (or null), with a field it writes that one field;
 * - `delete`: removes the whole entity (`field` and `value` must be null);
 * - `noop`: changes nothing (keeps a device's clock visible); ignored by `materialize`.
 */
export const OpKind = z.enum(["set", "delete", "insert", "noop"]);
export type OpKind = z.infer<typeof OpKind>;

const namePatternHelp = "lower-case letters, digits and _, starting with a letter, at most 64";

export const EntityName = z
  .string()
  .regex(ENTITY_NAME_PATTERN, `entity must be ${namePatternHelp} characters (e.g. "playlist")`);

export const FieldName = z
  .string()
  .regex(FIELD_NAME_PATTERN, `field must be ${namePatternHelp} characters (e.g. "title")`);

export const EntityId = wireString(
  z
    .string()
    .min(1, "entityId must not be empty")
    .max(MAX_ENTITY_ID_LENGTH, `entityId must be at most ${MAX_ENTITY_ID_LENGTH} characters`),
  "entityId",
);

/** The fields every op carries, as pushed by its device. */
const opInputShape = {
  operationId: Uuid,
  lamportTs: LamportTs,
  entity: EntityName,
  entityId: EntityId,
  field: FieldName.nullable(),
  op: OpKind,
  value: JsonValue.nullable(),
};

type OpFields = z.infer<z.ZodObject<typeof opInputShape>>;

type OpRuleIssue = Parameters<z.RefinementCtx["addIssue"]>[0];

/**
 * The rules that tie an op's fields together; shared by what is pushed and what is pulled, and
 * by the schemas and the push's fast path (acceptOpInput). Reports each rule `op` breaks, in
 * order, and answers the size of its value (UTF-8 bytes of its JSON).
 */
function eachOpRuleIssue(op: OpFields, report: (issue: OpRuleIssue) => void): number {
  if (op.op === "delete" && op.field !== null) {
    report({
      code: "custom",
      path: ["field"],
      message: `a delete removes the whole entity, so field must be null (got "${op.field}"); to clear one field, send a set with value null`,
    });
  }
  if (op.op === "delete" && op.value !== null) {
    report({
      code: "custom",
      path: ["value"],
      message: "a delete carries no value; value must be null",
    });
  }
  if (op.op === "set" && op.field === null) {
    report({
      code: "custom",
      path: ["field"],
      message: "a set writes one field, so field is required; to remove the entity, send a delete",
    });
  }
  if (op.op === "insert" && op.field === null && op.value !== null) {
    const isObject = typeof op.value === "object" && !Array.isArray(op.value);
    if (!isObject) {
      report({
        code: "custom",
        path: ["value"],
        message: "an insert without a field takes an object of initial fields (or null) as value",
      });
    } else {
      for (const key of Object.keys(op.value)) {
        if (!FIELD_NAME_PATTERN.test(key)) {
          report({
            code: "custom",
            path: ["value", key],
            message: `initial field "${key}" must be ${namePatternHelp} characters`,
          });
        }
      }
    }
  }
  const valueBytes = jsonByteLength(op.value);
  if (valueBytes > MAX_VALUE_BYTES) {
    report({
      code: "custom",
      params: { limit: MAX_VALUE_BYTES, actual: valueBytes },
      path: ["value"],
      message: `value is ${valueBytes} bytes as JSON, over the ${MAX_VALUE_BYTES}-byte limit (MAX_VALUE_BYTES); split it across fields or entities`,
    });
  }
  return valueBytes;
}

function checkOpRules(op: OpFields, ctx: z.RefinementCtx): void {
  eachOpRuleIssue(op, (issue) => ctx.addIssue(issue));
}

// The push's fast path (acceptOpInput) checks what the schemas check, with the same patterns.
const UUID_PATTERN = (Uuid._zod.def as { pattern?: unknown }).pattern;
if (!(UUID_PATTERN instanceof RegExp)) throw new Error("the Uuid schema carries no pattern");
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * The fast path of OpInput for an op the push receives: the op exactly as `OpInput.parse` would
 * give it (a new object with the schema's fields in the schema's order, the value itself) and
 * the size of its value, when the op certainly passes every check of OpInput; otherwise null,
 * and the caller parses it with the schema, which gives the refusal. It never accepts what the
 * schema refuses: anything unusual (a class instance, a string with U+0000 or a surrogate, a
 * value JSON cannot carry) is either checked by the schema's own parts or answered null. A
 * property test holds it to the schema.
 */
export function acceptOpInput(input: unknown): { op: OpInput; valueBytes: number } | null {
  if (!isPlainObject(input)) return null;
  const { operationId, lamportTs, entity, entityId, field, op, value } = input;
  if (typeof operationId !== "string" || !(UUID_PATTERN as RegExp).test(operationId)) return null;
  if (typeof lamportTs !== "number" || !Number.isSafeInteger(lamportTs) || lamportTs <= 0) {
    return null;
  }
  if (typeof entity !== "string" || !ENTITY_NAME_PATTERN.test(entity)) return null;
  if (
    typeof entityId !== "string" ||
    entityId.length < 1 ||
    entityId.length > MAX_ENTITY_ID_LENGTH ||
    !storableText(entityId)
  ) {
    return null;
  }
  if (field !== null && (typeof field !== "string" || !FIELD_NAME_PATTERN.test(field))) {
    return null;
  }
  if (op !== "set" && op !== "delete" && op !== "insert" && op !== "noop") return null;
  // JsonValue.nullable(): null, or what JsonValue accepts (isPlainJson, its walk without the
  // paths it names a refusal by); the value is passed on as it is, as the schema does.
  if (value !== null && !isPlainJson(value)) return null;
  const parsed: OpInput = {
    operationId,
    lamportTs,
    entity,
    entityId,
    field,
    op,
    value: value as OpInput["value"],
  };
  let broken = false;
  const valueBytes = eachOpRuleIssue(parsed, () => {
    broken = true;
  });
  return broken ? null : { op: parsed, valueBytes };
}

/** One op as a device pushes it. */
export const OpInput = z.object(opInputShape).superRefine(checkOpRules);
export type OpInput = z.infer<typeof OpInput>;

/** One stored op as the server delivers it (pull, subscribe). */
export const SyncOp = z
  .object({
    id: OpId,
    deviceId: Uuid,
    ...opInputShape,
    createdAt: z.iso.datetime({ offset: true, error: "createdAt must be an ISO 8601 date-time" }),
  })
  .superRefine(checkOpRules);
export type SyncOp = z.infer<typeof SyncOp>;
