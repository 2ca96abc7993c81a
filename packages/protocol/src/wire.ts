import { z } from "zod";
import { MAX_VALUE_DEPTH } from "./limits.js";

/*
 * Numbers on the wire. The server stores ids (BIGSERIAL) and Lamport timestamps (BIGINT) as
 * 64-bit integers, but JSON has no BigInt. They travel as plain JSON numbers bounded by
 * Number.MAX_SAFE_INTEGER (2^53 - 1): at a million ops a second that lasts 285 years, and it
 * keeps every client (browser, Electron, CLI) free of a BigInt codec. `toWireInt` is the one
 * place the server turns a stored bigint into a wire number, refusing instead of rounding.
 */

const safeIntMessage = "must be a whole number no larger than Number.MAX_SAFE_INTEGER";

/** Id of a stored op: positive, assigned by the server, ascending per user. */
export const OpId = z.int({ error: `op id ${safeIntMessage}` }).positive("op id must be >= 1");
export type OpId = z.infer<typeof OpId>;

/** A position in a user's op log: 0 means "before the first op". */
export const Cursor = z
  .int({ error: `cursor ${safeIntMessage}` })
  .nonnegative("cursor must be >= 0 (0 means from the start)");
export type Cursor = z.infer<typeof Cursor>;

/** A device's Lamport timestamp: positive, strictly increasing per device. */
export const LamportTs = z
  .int({ error: `lamportTs ${safeIntMessage}` })
  .positive("lamportTs must be >= 1");
export type LamportTs = z.infer<typeof LamportTs>;

export const Uuid = z.uuid("must be a UUID (8-4-4-4-12 hex digits)");

type Json = z.infer<ReturnType<typeof z.json>>;

function describePath(path: ReadonlyArray<string | number>): string {
  const shown = path.length > 8 ? [...path.slice(0, 8), "…"] : path;
  return ["value", ...shown].join(".");
}

// A lone surrogate: a high one not followed by a low one, or a low one without a high one before it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `text` cannot be stored as sent, or null when it can. U+0000 and lone surrogates are
 * valid in a JavaScript string and in JSON, but not in UTF-8 text: PostgreSQL refuses both
 * (in `text` and in `jsonb`), so a string holding one would be refused at the database on
 * every retry. Both ends refuse them here instead, with a message that says where.
 */
export function unstorableStringProblem(text: string): string | null {
  if (text.includes("\u0000")) return "contains U+0000 (NUL), which cannot be stored";
  const surrogate = LONE_SURROGATE.exec(text);
  if (surrogate) {
    const code = surrogate[0].charCodeAt(0).toString(16).toUpperCase();
    return `contains a lone surrogate (U+${code} at index ${surrogate.index}), which is not valid Unicode text`;
  }
  return null;
}

/** A string that can be stored and sent as UTF-8 text (no U+0000, no lone surrogates). */
export function wireString<T extends z.ZodString>(schema: T, name: string) {
  return schema.superRefine((text, ctx) => {
    const problem = unstorableStringProblem(text);
    if (problem !== null) ctx.addIssue({ code: "custom", message: `${name} ${problem}` });
  });
}

/** The first thing in `value` that JSON cannot carry as is, or null when it is plain JSON. */
function findNonJson(value: unknown, path: Array<string | number>, depth: number): string | null {
  if (depth > MAX_VALUE_DEPTH) {
    return `${describePath(path)} nests deeper than ${MAX_VALUE_DEPTH} levels (MAX_VALUE_DEPTH)`;
  }
  if (typeof value === "string") {
    const problem = unstorableStringProblem(value);
    return problem === null ? null : `${describePath(path)} ${problem}`;
  }
  if (value === null || typeof value === "boolean") return null;
  if (typeof value === "number") {
    return Number.isFinite(value)
      ? null
      : `${describePath(path)} is ${value}, which JSON cannot carry`;
  }
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const problem = findNonJson(value[index], [...path, index], depth + 1);
      if (problem !== null) return problem;
    }
    return null;
  }
  if (typeof value === "object") {
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      return `${describePath(path)} is a ${value.constructor?.name ?? "class instance"}; send plain objects (dates as ISO strings)`;
    }
    for (const [key, item] of Object.entries(value)) {
      const keyProblem = unstorableStringProblem(key);
      if (keyProblem !== null) return `a key in ${describePath(path)} ${keyProblem}`;
      const problem = findNonJson(item, [...path, key], depth + 1);
      if (problem !== null) return problem;
    }
    return null;
  }
  return `${describePath(path)} is ${typeof value}, which JSON cannot carry`;
}

/**
 * Whether `value` is plain JSON: true exactly when findNonJson finds nothing in it (the same
 * walk, the same checks, in the same order), without the path findNonJson builds for its
 * message — an array per element walked. The push's fast path (acceptOpInput) checks values
 * with it; a value it refuses is parsed by the schema, which says why. A property test holds
 * the two to the same answer.
 */
export function isPlainJson(value: unknown, depth = 0): boolean {
  if (depth > MAX_VALUE_DEPTH) return false;
  if (typeof value === "string") return storableText(value);
  if (value === null || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      if (!isPlainJson(value[index], depth + 1)) return false;
    }
    return true;
  }
  if (typeof value === "object") {
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) return false;
    // Object.entries' keys and values: own enumerable string keys, each read once.
    const keys = Object.keys(value);
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index] as string;
      if (!storableText(key)) return false;
      if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
    }
    return true;
  }
  return false;
}

/** Any character unstorableStringProblem might object to; strings without one pass it. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is one of the characters looked for
const SUSPECT_CHARACTER = /[\u0000\uD800-\uDFFF]/;

/** unstorableStringProblem(text) === null, the regular expressions run only when needed. */
export function storableText(text: string): boolean {
  return !SUSPECT_CHARACTER.test(text) || unstorableStringProblem(text) === null;
}

/** Any JSON value: what an op's `value` may hold. Errors name the offending path. */
export const JsonValue = z.custom<Json>().superRefine((value, ctx) => {
  const problem = findNonJson(value, [], 0);
  // Aborting, so refinements around it (byte sizes) never see a value JSON cannot encode.
  if (problem !== null) ctx.addIssue({ code: "custom", message: problem, continue: false });
});
export type JsonValue = z.infer<typeof JsonValue>;

/** Converts a stored 64-bit integer to its wire form; throws rather than lose precision. */
export function toWireInt(value: bigint | number): number {
  const asNumber = Number(value);
  if (!Number.isSafeInteger(asNumber) || BigInt(asNumber) !== BigInt(value)) {
    throw new RangeError(`${value} does not fit a wire integer (max ${Number.MAX_SAFE_INTEGER})`);
  }
  return asNumber;
}
