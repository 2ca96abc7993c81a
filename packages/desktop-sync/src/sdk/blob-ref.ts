import { BLOB_REFS_KEY, type JsonValue } from "@chorus/protocol";

/*
 * How a blob column's value travels. In the app's table the column holds the reference itself
 * (lower-case hex SHA-256, or NULL); in an op and in the registers it is the JSON object
 * `{ "$blobs": [sha256] }`, the shape the server's garbage collection and the seal of an
 * encrypted account look for (`$blobs` anywhere in a value).
 */

export const BLOB_REF_PATTERN = /^[0-9a-f]{64}$/;

export function isBlobRef(value: unknown): value is string {
  return typeof value === "string" && BLOB_REF_PATTERN.test(value);
}

/** The op value of a blob column holding `ref` (null stays null). */
export function blobValue(ref: string | null): JsonValue {
  return ref === null ? null : { [BLOB_REFS_KEY]: [ref] };
}

/** The reference an op value of a blob column carries, or null (null, or not a reference). */
export function blobRefOf(value: JsonValue | undefined): string | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const refs = (value as Record<string, JsonValue>)[BLOB_REFS_KEY];
  if (!Array.isArray(refs) || refs.length !== 1) return null;
  return isBlobRef(refs[0]) ? refs[0] : null;
}

/** SQL: the JSON value of blob column `expr` (an object, or SQL NULL for NULL). */
export function blobJsonSql(expr: string): string {
  return `CASE WHEN ${expr} IS NULL THEN NULL ELSE json_object('${BLOB_REFS_KEY}', json_array(${expr})) END`;
}

/** SQL: a reference the column may not hold (not NULL and not 64 lower-case hex digits). */
export function badBlobRefSql(expr: string): string {
  return `${expr} IS NOT NULL AND (typeof(${expr}) != 'text' OR length(${expr}) != 64 OR ${expr} GLOB '*[^0-9a-f]*')`;
}
