import { z } from "zod";
import {
  ENTITY_NAME_PATTERN,
  FIELD_NAME_PATTERN,
  jsonByteLength,
  MAX_ENTITY_ID_LENGTH,
  MAX_VALUE_BYTES,
} from "./limits.js";
import { JsonValue, LamportTs, OpId, Uuid, wireString } from "./wire.js";

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

/** The rules that tie an op's fields together; shared by what is pushed and what is pulled. */
function checkOpRules(op: OpFields, ctx: z.RefinementCtx): void {
  if (op.op === "delete" && op.field !== null) {
    ctx.addIssue({
      code: "custom",
      path: ["field"],
      message: `a delete removes the whole entity, so field must be null (got "${op.field}"); to clear one field, send a set with value null`,
    });
  }
  if (op.op === "delete" && op.value !== null) {
    ctx.addIssue({
      code: "custom",
      path: ["value"],
      message: "a delete carries no value; value must be null",
    });
  }
  if (op.op === "set" && op.field === null) {
    ctx.addIssue({
      code: "custom",
      path: ["field"],
      message: "a set writes one field, so field is required; to remove the entity, send a delete",
    });
  }
  if (op.op === "insert" && op.field === null && op.value !== null) {
    const isObject = typeof op.value === "object" && !Array.isArray(op.value);
    if (!isObject) {
      ctx.addIssue({
        code: "custom",
        path: ["value"],
        message: "an insert without a field takes an object of initial fields (or null) as value",
      });
    } else {
      for (const key of Object.keys(op.value)) {
        if (!FIELD_NAME_PATTERN.test(key)) {
          ctx.addIssue({
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
    ctx.addIssue({
      code: "custom",
      params: { limit: MAX_VALUE_BYTES, actual: valueBytes },
      path: ["value"],
      message: `value is ${valueBytes} bytes as JSON, over the ${MAX_VALUE_BYTES}-byte limit (MAX_VALUE_BYTES); split it across fields or entities`,
    });
  }
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
