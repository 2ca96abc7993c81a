import { z } from "zod";
import { DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT } from "./limits.js";
import { SyncOp } from "./op.js";
import { Cursor } from "./wire.js";

/** Ops of the caller's user with id > since, ascending. Pulling never moves a cursor. */
export const PullInput = z.object({
  since: Cursor,
  limit: z
    .int("limit must be a whole number")
    .min(1, "limit must be at least 1")
    .max(MAX_PULL_LIMIT, `limit must be at most ${MAX_PULL_LIMIT} (MAX_PULL_LIMIT)`)
    .default(DEFAULT_PULL_LIMIT),
  /**
   * The caller is rebuilding from a full pull that started at since = 0 and pages on from the
   * `nextSince` this call returned. Such a reader holds every op that survived compaction below
   * its position, so the resync_required check (0 < since < watermark) does not apply to it;
   * without this flag the second page of a rebuild would be refused whenever compaction kept
   * more than one page of ops below the watermark.
   */
  fullResync: z.boolean().default(false),
});
export type PullInput = z.infer<typeof PullInput>;

/**
 * One page. `nextSince` is the id of the last op returned (or the input's `since` when the
 * page is empty): pass it as the next `since`. `hasMore` says another page is ready now.
 */
export const PullResult = z
  .object({
    ops: z.array(SyncOp),
    nextSince: Cursor,
    hasMore: z.boolean(),
  })
  .superRefine((page, ctx) => {
    page.ops.forEach((op, index) => {
      const previous = index > 0 ? page.ops[index - 1] : undefined;
      if (previous !== undefined && op.id <= previous.id) {
        ctx.addIssue({
          code: "custom",
          path: ["ops", index, "id"],
          message: `ops must be in ascending id order: ${op.id} follows ${previous.id}`,
        });
      }
    });
    const last = page.ops.at(-1);
    if (last !== undefined && page.nextSince !== last.id) {
      ctx.addIssue({
        code: "custom",
        path: ["nextSince"],
        message: `nextSince must be the id of the last op in the page (${last.id})`,
      });
    }
  });
export type PullResult = z.infer<typeof PullResult>;
