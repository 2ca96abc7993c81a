import { z } from "zod";
import { entityKey, type LwwState, viewState } from "./lww.js";
import { Cursor } from "./wire.js";

/*
 * The convergence audit (docs/adr/0019-convergence-audit-and-lag-history.md): a device and the
 * server each describe the synced state at the device's position as the same canonical rows,
 * and compare digests of them.
 *
 * Rows, one per entity and one per visible field, built from the conflict rule's registers:
 *
 *   ["e", entity, entityId, deleted, tombstoneTs | null, tombstoneDevice | null]
 *   ["f", entity, entityId, field, lamportTs, deviceId, value]
 *
 * Device ids lower-cased; `value` with every object's keys in code-unit order (so key order,
 * which PostgreSQL's JSONB does not keep, never matters). Rows are sorted by (entity, entityId,
 * entity row first, field): the digest depends on the state, not on the order ops arrived in.
 * A field hidden by a newer tombstone and a superseded write are not rows: compaction may have
 * dropped them on the server while the device still holds them, and they are not visible.
 *
 * The digest is SHA-256 (hex) of the rows' JSON texts joined by "\n", and the same per bucket
 * (AUDIT_BUCKETS buckets by an FNV-1a hash of the entity key, 16 hex digits each), so a mismatch
 * is narrowed to one bucket, whose rows alone travel to find the first differing entity.
 * The hash function is passed in: this package runs in browsers too and imports no node:crypto.
 */

export const AUDIT_BUCKETS = 256;
/** Rows one bucket may carry in an audit's detail (a bucket of a very large state is cut). */
export const MAX_AUDIT_DETAIL_ROWS = 20_000;
/** Bytes of rows one detail carries at most (the sync server reads request bodies up to 1 MiB). */
export const MAX_AUDIT_DETAIL_BYTES = 768 * 1024;
/** Characters of a value shown in a difference (the digest covers the whole value). */
export const AUDIT_VALUE_PREVIEW = 300;

export type AuditRow =
  | {
      readonly kind: "e";
      readonly entity: string;
      readonly entityId: string;
      readonly field: null;
      readonly deleted: boolean;
      readonly lamportTs: number | null;
      readonly deviceId: string | null;
    }
  | {
      readonly kind: "f";
      readonly entity: string;
      readonly entityId: string;
      readonly field: string;
      readonly lamportTs: number;
      readonly deviceId: string;
      readonly value: unknown;
    };

/** JSON with every object's keys in code-unit order, at every depth. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort(compareStrings)) {
      sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
    }
    return sorted;
  }
  return value;
}

function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** The order of rows: entity, id, the entity row before its fields, field name. */
export function compareAuditRows(
  a: Pick<AuditRow, "entity" | "entityId" | "field">,
  b: Pick<AuditRow, "entity" | "entityId" | "field">,
): number {
  return (
    compareStrings(a.entity, b.entity) ||
    compareStrings(a.entityId, b.entityId) ||
    (a.field === null ? (b.field === null ? 0 : -1) : b.field === null ? 1 : 0) ||
    compareStrings(a.field ?? "", b.field ?? "")
  );
}

/** The rows a folded state describes, sorted. */
export function auditRows(state: LwwState): AuditRow[] {
  const rows: AuditRow[] = [];
  const view = viewState(state);
  for (const [key, entity] of view) {
    const registers = state.get(key);
    if (!registers) continue;
    rows.push({
      kind: "e",
      entity: entity.entity,
      entityId: entity.entityId,
      field: null,
      deleted: entity.deleted,
      lamportTs: entity.tombstone?.lamportTs ?? null,
      deviceId: entity.tombstone?.deviceId.toLowerCase() ?? null,
    });
    for (const [field, value] of Object.entries(entity.fields)) {
      const op = registers.fields.get(field)?.op;
      if (!op) continue;
      rows.push({
        kind: "f",
        entity: entity.entity,
        entityId: entity.entityId,
        field,
        lamportTs: op.lamportTs,
        deviceId: op.deviceId.toLowerCase(),
        value,
      });
    }
  }
  return rows.sort(compareAuditRows);
}

/** The row's canonical text, which the digests cover. */
export function auditLine(row: AuditRow): string {
  if (row.kind === "e") {
    return JSON.stringify([
      "e",
      row.entity,
      row.entityId,
      row.deleted,
      row.lamportTs,
      row.deviceId,
    ]);
  }
  return JSON.stringify([
    "f",
    row.entity,
    row.entityId,
    row.field,
    row.lamportTs,
    row.deviceId,
    sortKeys(row.value),
  ]);
}

/** Which bucket an entity's rows fall in: FNV-1a (32 bit) of its key, mod AUDIT_BUCKETS. */
export function auditBucket(entity: string, entityId: string): number {
  const key = entityKey(entity, entityId);
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % AUDIT_BUCKETS;
}

/** SHA-256 of a text, as lower-case hex. */
export type Sha256 = (text: string) => string;

export interface AuditDigest {
  /** SHA-256 of every row's line, joined by "\n". */
  readonly hash: string;
  /** The first 16 hex digits of each bucket's SHA-256, in bucket order. */
  readonly buckets: string[];
  readonly rows: number;
}

export function digestAudit(rows: readonly AuditRow[], sha256: Sha256): AuditDigest {
  const lines = rows.map(auditLine);
  const perBucket: string[][] = Array.from({ length: AUDIT_BUCKETS }, () => []);
  rows.forEach((row, i) => {
    perBucket[auditBucket(row.entity, row.entityId)]?.push(lines[i] as string);
  });
  return {
    hash: sha256(lines.join("\n")),
    buckets: perBucket.map((bucket) => sha256(bucket.join("\n")).slice(0, 16)),
    rows: rows.length,
  };
}

/** An incremental SHA-256 (node:crypto's `createHash("sha256")` is one): texts in, hex out. */
export interface IncrementalHash {
  update(text: string): unknown;
  digest(encoding: "hex"): string;
}

/**
 * digestAudit's digests, fed one row at a time in row order (the same texts joined by "\n",
 * so the same digests), for a state too large to hold as rows: the device streams its
 * registers through it, the server its log folded one entity at a time.
 */
export class AuditDigester {
  private readonly whole: IncrementalHash;
  private readonly buckets: Array<{ hash: IncrementalHash; rows: number }>;
  private rows = 0;

  constructor(newHash: () => IncrementalHash) {
    this.whole = newHash();
    this.buckets = Array.from({ length: AUDIT_BUCKETS }, () => ({ hash: newHash(), rows: 0 }));
  }

  add(row: AuditRow): void {
    const line = auditLine(row);
    this.whole.update(this.rows === 0 ? line : `\n${line}`);
    this.rows += 1;
    const bucket = this.buckets[auditBucket(row.entity, row.entityId)];
    if (!bucket) return;
    bucket.hash.update(bucket.rows === 0 ? line : `\n${line}`);
    bucket.rows += 1;
  }

  digest(): AuditDigest {
    return {
      hash: this.whole.digest("hex"),
      buckets: this.buckets.map((bucket) => bucket.hash.digest("hex").slice(0, 16)),
      rows: this.rows,
    };
  }
}

/** How a row travels in an audit's detail: its key, its stamp, a preview and its digest. */
export function auditDetailRow(row: AuditRow, sha256: Sha256): AuditDetailRow {
  const shown =
    row.kind === "e" ? (row.deleted ? "(deleted)" : "(present)") : canonicalJson(row.value);
  return {
    entity: row.entity,
    entityId: row.entityId,
    field: row.field,
    lamportTs: row.lamportTs,
    deviceId: row.deviceId,
    value: shown.length > AUDIT_VALUE_PREVIEW ? `${shown.slice(0, AUDIT_VALUE_PREVIEW)}…` : shown,
    digest: sha256(auditLine(row)).slice(0, 16),
  };
}

const Hex = (length: number) => z.string().regex(new RegExp(`^[0-9a-f]{${length}}$`));

export const AuditTrigger = z.enum(["on_demand", "resync", "requested"]);
export type AuditTrigger = z.infer<typeof AuditTrigger>;

/** What a device sends: its position, what waits in its queue, and its state's digests. */
export const AuditInput = z.object({
  trigger: AuditTrigger,
  cursor: Cursor,
  /** Ops waiting in the device's outbox: the server cannot know them, so it cannot compare. */
  pendingOps: z.int().nonnegative(),
  rows: z.int().nonnegative(),
  hash: Hex(64),
  buckets: z.array(Hex(16)).length(AUDIT_BUCKETS),
});
export type AuditInput = z.infer<typeof AuditInput>;

export const AuditDetailRow = z.object({
  entity: z.string().max(64),
  entityId: z.string().max(200),
  field: z.string().max(64).nullable(),
  lamportTs: z.int().nonnegative().nullable(),
  deviceId: z.string().max(64).nullable(),
  value: z.string().max(AUDIT_VALUE_PREVIEW + 1),
  digest: Hex(16),
});
export type AuditDetailRow = z.infer<typeof AuditDetailRow>;

/** The rows of the first bucket that differs, so the server can name the first difference. */
export const AuditDetailInput = z.object({
  auditId: z.string().regex(/^[0-9]{1,19}$/),
  bucket: z
    .int()
    .min(0)
    .max(AUDIT_BUCKETS - 1),
  /** The bucket's rows in row order: all of them, or (complete false) the first ones that fit. */
  rows: z.array(AuditDetailRow).max(MAX_AUDIT_DETAIL_ROWS),
  complete: z.boolean(),
});
export type AuditDetailInput = z.infer<typeof AuditDetailInput>;

/** One side of the first difference: what that side holds (null: it has no such row). */
export interface AuditSide {
  value: string;
  lamportTs: number | null;
  deviceId: string | null;
}

export interface AuditDifference {
  entity: string;
  entityId: string;
  /** null: the entity itself (present on one side only, or deleted on one side). */
  field: string | null;
  device: AuditSide | null;
  server: AuditSide | null;
}

export type AuditOutcome = "match" | "mismatch" | "not_comparable";
/** Why the server could not compare. */
export type AuditNotComparable = "pending_ops" | "below_watermark" | "beyond_head";

/**
 * The first row, in row order, where the two sides differ (absent on one side or another
 * digest), or null when both lists hold the same rows.
 */
export function firstDifference(
  device: readonly AuditDetailRow[],
  server: readonly AuditDetailRow[],
): AuditDifference | null {
  const d = [...device].sort(compareAuditRows);
  const s = [...server].sort(compareAuditRows);
  let i = 0;
  let j = 0;
  const side = (row: AuditDetailRow): AuditSide => ({
    value: row.value,
    lamportTs: row.lamportTs,
    deviceId: row.deviceId,
  });
  while (i < d.length || j < s.length) {
    const a = d[i];
    const b = s[j];
    const order = a === undefined ? 1 : b === undefined ? -1 : compareAuditRows(a, b);
    const row = (order <= 0 ? a : b) as AuditDetailRow;
    const key = { entity: row.entity, entityId: row.entityId, field: row.field };
    if (order < 0) return { ...key, device: side(a as AuditDetailRow), server: null };
    if (order > 0) return { ...key, device: null, server: side(b as AuditDetailRow) };
    if ((a as AuditDetailRow).digest !== (b as AuditDetailRow).digest) {
      return { ...key, device: side(a as AuditDetailRow), server: side(b as AuditDetailRow) };
    }
    i += 1;
    j += 1;
  }
  return null;
}
