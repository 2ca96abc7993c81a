import { z } from "zod";
import { Cursor } from "./wire.js";

/**
 * "This device has applied every op up to lastSeenId." The only input that advances a
 * device's cursor; the server never moves a cursor backwards and refuses ids beyond the
 * user's newest op (`ack_beyond_head`).
 */
export const AckInput = z.object({
  lastSeenId: Cursor,
});
export type AckInput = z.infer<typeof AckInput>;
