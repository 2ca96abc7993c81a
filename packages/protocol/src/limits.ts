/** Deepest nesting of arrays and objects inside one value. */
export const MAX_VALUE_DEPTH = 64;
/** Most ops one push may carry. */
export const MAX_OPS_PER_BATCH = 500;
/** Largest value of one op, measured as the UTF-8 bytes of its JSON encoding. */
export const MAX_VALUE_BYTES = 64 * 1024;
/** Largest push, measured as the UTF-8 bytes of the JSON encoding of the whole push input. */
export const MAX_BATCH_BYTES = 512 * 1024;
/**
 * Largest message a client may send over the sync server's WebSocket (bytes of one frame). The
 * server closes a socket that sends more (1009) without reading it, so it cannot answer such a
 * call with a typed refusal: a client sends a call that would not fit over HTTP instead, where
 * the same bound on the body answers `payload_too_large`. A push within MAX_BATCH_BYTES (plus
 * its bounded telemetry and tRPC's envelope) always fits.
 */
export const MAX_SOCKET_MESSAGE_BYTES = 1024 * 1024;
/** Most ops one pull may ask for. */
export const MAX_PULL_LIMIT = 1000;
/** Ops per pull page when the caller does not say. */
export const DEFAULT_PULL_LIMIT = 200;

/** Entity names (`playlist`, `playlist_entry`): lower-case snake case, at most 64 chars. */
export const ENTITY_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/** Field names follow the same rule as entity names. */
export const FIELD_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/** Longest entity id (entity ids are device-made UUIDs in practice). */
export const MAX_ENTITY_ID_LENGTH = 128;

/**
 * UTF-8 bytes of a string that has no lone surrogates (JSON.stringify escapes them), counted
 * without encoding it: one byte below U+0080, two below U+0800, four for a surrogate pair,
 * three otherwise. Counting spares the copy TextEncoder would make on every size check.
 */
function utf8ByteLength(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
      continue;
    }
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair: two UTF-16 units, four bytes.
        bytes += 2;
        i++;
        continue;
      }
    }
    // The rest of the Basic Multilingual Plane, and a lone surrogate (TextEncoder writes
    // U+FFFD for it): three bytes.
    bytes += 2;
  }
  return bytes;
}

/**
 * Size of `value` on the wire: UTF-8 bytes of `JSON.stringify(value)`. This is what every
 * byte limit above is measured with, on the device before sending and on the server after
 * parsing, so both sides agree on what "too large" means.
 */
export function jsonByteLength(value: unknown): number {
  const encoded = JSON.stringify(value);
  return encoded === undefined ? 0 : utf8ByteLength(encoded);
}
