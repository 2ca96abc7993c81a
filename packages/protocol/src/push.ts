import { z } from "zod";
import { jsonByteLength, MAX_BATCH_BYTES, MAX_OPS_PER_BATCH } from "./limits.js";
import { acceptOpInput, OpInput } from "./op.js";
import { DeviceTelemetry } from "./telemetry.js";
import { OpId, Uuid } from "./wire.js";

type BatchIssue = Parameters<z.RefinementCtx["addIssue"]>[0];

/**
 * The rules of a batch as a whole, shared by PushInput and its fast path (parsePushInput):
 * each op's operationId once, lamportTs strictly increasing, and the batch's size. Reports each
 * rule broken, in order. `opBytes` (the fast path's) are the ops' sizes as JSON, counted as
 * they were checked; without them the batch is measured by encoding it.
 */
function eachBatchIssue(
  ops: readonly OpInput[],
  opBytes: readonly number[] | undefined,
  report: (issue: BatchIssue) => void,
): void {
  const firstIndexOf = new Map<string, number>();
  ops.forEach((op, index) => {
    const first = firstIndexOf.get(op.operationId);
    if (first !== undefined) {
      report({
        code: "custom",
        path: ["ops", index, "operationId"],
        message: `operationId ${op.operationId} repeats ops[${first}]; every op in a batch needs its own operationId`,
      });
    } else {
      firstIndexOf.set(op.operationId, index);
    }
    const previous = index > 0 ? ops[index - 1] : undefined;
    if (previous !== undefined && op.lamportTs <= previous.lamportTs) {
      report({
        code: "custom",
        path: ["ops", index, "lamportTs"],
        message: `lamportTs must increase within a batch: ops[${index}] has ${op.lamportTs} after ${previous.lamportTs}`,
      });
    }
  });
  // The ops only: telemetry is bounded by its own schema, so a batch sized to the limit by
  // the device never goes over it because a report rides along.
  const batchBytes = opBytes ? batchByteLength(opBytes) : jsonByteLength({ ops });
  if (batchBytes > MAX_BATCH_BYTES) {
    report({
      code: "custom",
      params: { limit: MAX_BATCH_BYTES, actual: batchBytes },
      path: ["ops"],
      message: `the batch is ${batchBytes} bytes as JSON, over the ${MAX_BATCH_BYTES}-byte limit (MAX_BATCH_BYTES); send fewer ops per batch`,
    });
  }
}

/** `jsonByteLength({ ops })` from the sizes of the ops' JSON: `{"ops":[`, commas, `]}`. */
function batchByteLength(opBytes: readonly number[]): number {
  let bytes = '{"ops":[]}'.length + Math.max(opBytes.length - 1, 0);
  for (const size of opBytes) bytes += size;
  return bytes;
}

/**
 * One batch of a device's ops, in the order they were made. The server stores the batch in
 * one transaction; the device id comes from the token, never from here.
 */
export const PushInput = z
  .object({
    ops: z
      .array(OpInput)
      .min(1, "a push needs at least one op")
      .max(
        MAX_OPS_PER_BATCH,
        `a push carries at most ${MAX_OPS_PER_BATCH} ops (MAX_OPS_PER_BATCH); send the rest in another batch`,
      ),
    /** How the device stands as it pushes (optional: older devices send none). */
    telemetry: DeviceTelemetry.optional(),
  })
  .superRefine((input, ctx) => {
    eachBatchIssue(input.ops, undefined, (issue) => ctx.addIssue(issue));
  });
export type PushInput = z.infer<typeof PushInput>;

/** What became of one pushed op: its id in the user's log, and whether it was already there. */
export const PushOpResult = z.object({
  operationId: Uuid,
  id: OpId,
  /** true when this operationId was stored by an earlier push; `id` is the stored one. */
  duplicate: z.boolean(),
});
export type PushOpResult = z.infer<typeof PushOpResult>;

/** One result per pushed op, in the order of the input; `maxId` is the largest of their ids. */
export const PushResult = z.object({
  results: z.array(PushOpResult),
  maxId: OpId,
});
export type PushResult = z.infer<typeof PushResult>;

const TelemetryOfPush = PushInput.shape.telemetry;

/**
 * PushInput.parse, faster for a batch that passes: the sync server's input parser for a push.
 * A batch of plain ops that certainly passes every check of PushInput (acceptOpInput per op,
 * then the same batch rules) is answered with what PushInput.parse would give (new objects, the
 * same fields in the same order, the values themselves, the telemetry parsed by its schema);
 * anything else is parsed by PushInput itself, so every refusal, its issues and its messages
 * are the schema's. A property test over many valid and invalid batches holds the two to the
 * same acceptance and output.
 */
export function parsePushInput(input: unknown): PushInput {
  return acceptPushInput(input) ?? PushInput.parse(input);
}

/**
 * The fast path alone: what PushInput.parse would give when the batch certainly passes, else
 * null (parsePushInput then parses it with the schema). Exported for its property test.
 */
export function acceptPushInput(input: unknown): PushInput | null {
  if (typeof input !== "object" || input === null) return null;
  const prototype = Object.getPrototypeOf(input);
  if (prototype !== Object.prototype && prototype !== null) return null;
  const { ops: rawOps } = input as { ops?: unknown };
  if (!Array.isArray(rawOps) || rawOps.length < 1 || rawOps.length > MAX_OPS_PER_BATCH) {
    return null;
  }
  const ops: OpInput[] = new Array(rawOps.length);
  const opBytes: number[] = new Array(rawOps.length);
  for (let index = 0; index < rawOps.length; index++) {
    const accepted = acceptOpInput(rawOps[index]);
    if (accepted === null) return null;
    ops[index] = accepted.op;
    opBytes[index] = opJsonByteLength(accepted.op, accepted.valueBytes);
  }
  let broken = false;
  eachBatchIssue(ops, opBytes, () => {
    broken = true;
  });
  if (broken) return null;
  if (!("telemetry" in input)) return { ops };
  const telemetry = TelemetryOfPush.safeParse((input as { telemetry?: unknown }).telemetry);
  return telemetry.success ? { ops, telemetry: telemetry.data } : null;
}

/**
 * `jsonByteLength(op)` of an op acceptOpInput gave, without encoding it again: its fields in the
 * schema's order, with the value's size already counted. An operationId is 36 hex digits and
 * dashes, entity, field and kind are ASCII names with nothing to escape, lamportTs a safe
 * integer; only the entityId is encoded.
 */
function opJsonByteLength(op: OpInput, valueBytes: number): number {
  return (
    OP_JSON_FRAME_BYTES +
    op.operationId.length +
    String(op.lamportTs).length +
    op.entity.length +
    jsonByteLength(op.entityId) +
    (op.field === null ? 4 : op.field.length + 2) +
    op.op.length +
    valueBytes
  );
}

/** The keys, quotes, colons, commas and braces of an op's JSON around its values. */
const OP_JSON_FRAME_BYTES =
  '{"operationId":"","lamportTs":,"entity":"","entityId":,"field":,"op":"","value":}'.length;
