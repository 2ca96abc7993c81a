import { z } from "zod";
import { jsonByteLength, MAX_BATCH_BYTES, MAX_OPS_PER_BATCH } from "./limits.js";
import { OpInput } from "./op.js";
import { DeviceTelemetry } from "./telemetry.js";
import { OpId, Uuid } from "./wire.js";

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
    const firstIndexOf = new Map<string, number>();
    input.ops.forEach((op, index) => {
      const first = firstIndexOf.get(op.operationId);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["ops", index, "operationId"],
          message: `operationId ${op.operationId} repeats ops[${first}]; every op in a batch needs its own operationId`,
        });
      } else {
        firstIndexOf.set(op.operationId, index);
      }
      const previous = index > 0 ? input.ops[index - 1] : undefined;
      if (previous !== undefined && op.lamportTs <= previous.lamportTs) {
        ctx.addIssue({
          code: "custom",
          path: ["ops", index, "lamportTs"],
          message: `lamportTs must increase within a batch: ops[${index}] has ${op.lamportTs} after ${previous.lamportTs}`,
        });
      }
    });
    // The ops only: telemetry is bounded by its own schema, so a batch sized to the limit by
    // the device never goes over it because a report rides along.
    const batchBytes = jsonByteLength({ ops: input.ops });
    if (batchBytes > MAX_BATCH_BYTES) {
      ctx.addIssue({
        code: "custom",
        params: { limit: MAX_BATCH_BYTES, actual: batchBytes },
        path: ["ops"],
        message: `the batch is ${batchBytes} bytes as JSON, over the ${MAX_BATCH_BYTES}-byte limit (MAX_BATCH_BYTES); send fewer ops per batch`,
      });
    }
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
