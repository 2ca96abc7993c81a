/**
 * Version of the wire contract between devices and the sync server.
 *
 * Bump it when a change would make an older peer misread a message (a renamed field, a new
 * required field, a changed rule in `lww.ts`); additive optional fields do not need a bump.
 *
 * History:
 * - 1: first contract: push / pull / ack / subscribe, typed sync errors, LWW per field with
 *   entity tombstones. Ids and Lamport timestamps travel as JSON numbers (safe integers).
 */
export const PROTOCOL_VERSION = 1;
