import { z } from "zod";
import { Cursor } from "./wire.js";

/*
 * tRPC hands the id of the last `tracked(id, op)` event back on reconnect as a string, while
 * a device starting fresh passes its cursor as a number: accept both, deliver a number.
 */
const EventId = z
  .union([
    z.string().regex(/^\d{1,16}$/, "lastEventId must be a string of digits or a whole number"),
    z.int("lastEventId must be a string of digits or a whole number"),
  ])
  .transform((id) => Number(id))
  .pipe(Cursor);

/**
 * Live ops of the caller's user. Ops with id > lastEventId are replayed first (none when it is
 * absent), then new ops follow as they are committed; each event's id is the op's id.
 */
export const SubscribeInput = z.object({
  lastEventId: EventId.nullish().transform((id) => id ?? undefined),
});
export type SubscribeInput = z.infer<typeof SubscribeInput>;
