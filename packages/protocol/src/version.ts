import { type SyncErrorOf, syncError } from "./errors.js";

/**
 * Version of the wire contract between devices and the sync server.
 *
 * Bump it when a change would make an older peer misread a message (a renamed field, a new
 * required field, a changed rule in `lww.ts`); additive optional fields and new error types
 * do not need a bump (a client reads an error type it does not know as a plain refusal).
 *
 * History:
 * - 1: first contract: push / pull / ack / subscribe, typed sync errors, LWW per field with
 *   entity tombstones. Ids and Lamport timestamps travel as JSON numbers (safe integers).
 */
export const PROTOCOL_VERSION = 1;

/**
 * The oldest version this build still serves. A server serves every version from
 * MIN_PROTOCOL_VERSION to its own PROTOCOL_VERSION; raising it retires older clients.
 */
export const MIN_PROTOCOL_VERSION = 1;

/** The HTTP header a client states its version in (on WebSocket: `connectionParams.protocol`). */
export const PROTOCOL_VERSION_HEADER = "x-chorus-protocol";

/**
 * The compatibility rule, applied by the server to every call: the version a client states
 * must lie in [MIN_PROTOCOL_VERSION, PROTOCOL_VERSION]. A client that states none predates
 * the header and speaks version 1. A version that is not a whole number is read as 0 (never
 * served). Returns the `upgrade_required` error to answer, or null when the version is served.
 */
export function protocolVersionRefusal(
  stated: string | number | null | undefined,
  served: { min: number; max: number } = { min: MIN_PROTOCOL_VERSION, max: PROTOCOL_VERSION },
): SyncErrorOf<"upgrade_required"> | null {
  const text = stated === null || stated === undefined ? "1" : String(stated).trim();
  const version = /^\d{1,6}$/.test(text) ? Number(text) : 0;
  if (version >= served.min && version <= served.max) return null;
  return syncError("upgrade_required", {
    clientVersion: version,
    minVersion: served.min,
    maxVersion: served.max,
  });
}
