import {
  Prisma,
  type PrismaClient,
  queryPrepared,
  queryPreparedFirstRow,
  USER_LOCK_STATEMENT,
} from "@chorus/db";
import {
  batchKeyUse,
  type OpInput,
  type PushOpResult,
  type SyncOp,
  SyncProtocolError,
  syncError,
  toWireInt,
} from "@chorus/protocol";
import pg from "pg";
import type { OpsEvent } from "./bus.js";

type Db = PrismaClient | Prisma.TransactionClient;

interface OpRow {
  id: bigint;
  device_id: string;
  operation_id: string;
  lamport_ts: bigint;
  entity: string;
  entity_id: string;
  field: string | null;
  op: SyncOp["op"];
  value: SyncOp["value"];
  /** A Date from Prisma; on the pool the page reads it as its ISO string (pageTypes). */
  created_at: Date | string;
}

export interface PushOutcome {
  results: PushOpResult[];
  maxId: number;
  /** What to publish after commit; null when every op was a duplicate. */
  event: OpsEvent | null;
  duplicates: number;
}

/**
 * What chorus_push_ops answers (the typed-array overload, migration
 * 20261201100000_push_typed_arrays), checked before it is trusted: the positions and ids of
 * the ops it inserted and of the ops stored before, each op of the batch exactly once.
 */
export type PushAnswer =
  | {
      kind: "ok";
      newestBefore: number;
      storedMax: number;
      /** Batch positions (0-based) of the ops inserted now, ascending id; their ids and created_at. */
      stored: { index: number; id: number; createdAt: string }[];
      /** Batch positions (0-based) of the ops stored by an earlier push, and their stored ids. */
      duplicates: { index: number; id: number }[];
    }
  | { kind: "lamport_regression"; newestBefore: number; storedMax: number }
  | { kind: "key_epoch_stale"; epoch: number }
  | { kind: "key_missing" };

/** The push function answered something this code does not understand: a server bug. */
export class PushAnswerError extends Error {
  override name = "PushAnswerError";
}

/** The answer's row as node-postgres gives it (int8 as text) or Prisma does (int8 as bigint). */
interface PushAnswerRow {
  kind?: unknown;
  newest_before?: unknown;
  stored_max?: unknown;
  epoch?: unknown;
  stored_ords?: unknown;
  stored_ids?: unknown;
  stored_ms?: unknown;
  dup_ords?: unknown;
  dup_ids?: unknown;
}

function answerError(what: string): PushAnswerError {
  return new PushAnswerError(`chorus_push_ops answered an unexpected shape: ${what}`);
}

/** An int8 (text from node-postgres, bigint from Prisma) or int4 column as a wire integer. */
function answerInt(value: unknown, what: string): number {
  if (typeof value === "number") {
    if (Number.isSafeInteger(value)) return value;
  } else if (typeof value === "bigint" || (typeof value === "string" && value !== "")) {
    // int8 text is a plain decimal; any decimal past 2^53 - 1 parses to an unsafe number.
    const number = Number(value);
    if (Number.isSafeInteger(number)) return number;
  }
  throw answerError(`${what} is ${JSON.stringify(String(value))}, not a wire integer`);
}

function answerArray(value: unknown, what: string, length?: number): unknown[] {
  if (!Array.isArray(value)) throw answerError(`${what} is not an array`);
  if (length !== undefined && value.length !== length) {
    throw answerError(`${what} has ${value.length} entries, not ${length}`);
  }
  return value;
}

/** The batch position (0-based) an answer's ordinal names, each op of the batch once. */
function place(placed: Uint8Array, ord: unknown, what: string): number {
  const index = answerInt(ord, what) - 1;
  if (index < 0 || index >= placed.length) {
    throw answerError(`${what} ${index + 1} is outside the batch`);
  }
  if (placed[index] === 1) throw answerError(`${what}: op ${index + 1} is answered twice`);
  placed[index] = 1;
  return index;
}

/**
 * Parses chorus_push_ops' answer row for a batch of `count` ops; a wrong shape is a
 * PushAnswerError naming what is wrong. An "ok" answer must place every op of the batch exactly
 * once, as inserted now (ids ascending) or as stored before.
 */
export function parsePushAnswer(row: unknown, count: number): PushAnswer {
  if (typeof row !== "object" || row === null) throw answerError("no row");
  const answer = row as PushAnswerRow;
  switch (answer.kind) {
    case "key_missing":
      return { kind: "key_missing" };
    case "key_epoch_stale":
      return { kind: "key_epoch_stale", epoch: answerInt(answer.epoch, "epoch") };
    case "lamport_regression":
      return {
        kind: "lamport_regression",
        newestBefore: answerInt(answer.newest_before, "newest_before"),
        storedMax: answerInt(answer.stored_max, "stored_max"),
      };
    case "ok":
      break;
    default:
      throw answerError(`kind is ${JSON.stringify(String(answer.kind))}`);
  }
  const placed = new Uint8Array(count);
  const storedOrds = answerArray(answer.stored_ords, "stored_ords");
  const storedIds = answerArray(answer.stored_ids, "stored_ids", storedOrds.length);
  const storedMs = answerArray(answer.stored_ms, "stored_ms", storedOrds.length);
  const stored: { index: number; id: number; createdAt: string }[] = new Array(storedOrds.length);
  let lastMs = Number.NaN;
  let lastCreatedAt = "";
  let lastId = 0;
  for (let k = 0; k < storedOrds.length; k++) {
    const id = answerInt(storedIds[k], "stored_ids");
    if (id <= lastId) throw answerError("stored_ids do not ascend");
    lastId = id;
    const ms = answerInt(storedMs[k], "stored_ms");
    if (ms !== lastMs) {
      // The ops of one push share their created_at (the insert's now()): one string for all.
      lastMs = ms;
      lastCreatedAt = new Date(ms).toISOString();
    }
    const index = place(placed, storedOrds[k], "stored_ords");
    stored[k] = { index, id, createdAt: lastCreatedAt };
  }
  const dupOrds = answerArray(answer.dup_ords, "dup_ords");
  const dupIds = answerArray(answer.dup_ids, "dup_ids", dupOrds.length);
  const duplicates: { index: number; id: number }[] = new Array(dupOrds.length);
  for (let k = 0; k < dupOrds.length; k++) {
    const index = place(placed, dupOrds[k], "dup_ords");
    duplicates[k] = { index, id: answerInt(dupIds[k], "dup_ids") };
  }
  if (stored.length + duplicates.length !== count) {
    throw answerError(`${count - stored.length - duplicates.length} ops of the batch got no id`);
  }
  return {
    kind: "ok",
    newestBefore: answerInt(answer.newest_before, "newest_before"),
    storedMax: answerInt(answer.stored_max, "stored_max"),
    stored,
    duplicates,
  };
}

/**
 * One element of a Postgres array literal exactly as node-postgres writes it for an array
 * parameter (`arrayString` in pg/lib/utils.js): NULL for null, otherwise the value's text in
 * double quotes, backslashes and double quotes escaped with a backslash. The push builds its
 * array parameters' text with it: node-postgres' own walk (a `prepareValue` and two regular
 * expression replaces per element) was the largest part of its work per push (ADR 0039). The
 * operation ids, names, kinds and stamps never hold a quote or a backslash; an entity id may.
 * A test compares the literals with node-postgres' own over arbitrary strings.
 */
export function pgArrayElement(item: string | number | null): string {
  if (item === null) return "NULL";
  const text = String(item);
  return NEEDS_ESCAPE.test(text)
    ? `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`
    : `"${text}"`;
}
const NEEDS_ESCAPE = /["\\]/;

/**
 * The answer's integer arrays (int4[] and int8[]) as the list of their elements' text, split at
 * the commas: Postgres writes such an array as `{1,2,3}` (`{}` when empty, NULL for a null
 * element), never quoted or nested. node-postgres' general array parser cost as much as the
 * rest of the answer's parsing; parsePushAnswer reads each element as it did before (text or
 * number, refused past 2^53 - 1).
 */
export function intArrayText(text: string): (string | null)[] {
  if (text === "{}") return [];
  const items: (string | null)[] = text.slice(1, -1).split(",");
  for (let i = 0; i < items.length; i++) if (items[i] === "NULL") items[i] = null;
  return items;
}
/**
 * The answer's columns in the order the push statement names them. On the pool the answer is
 * read as its row's text by position (queryPreparedFirstRow: no row description, no type
 * parsers, ADR 0047): the int8 columns stay their decimal text, as node-postgres gives int8,
 * and the integer arrays are split by intArrayText; parsePushAnswer checks them as before.
 */
const PUSH_ANSWER_COLUMNS = [
  "kind",
  "newest_before",
  "stored_max",
  "epoch",
  "stored_ords",
  "stored_ids",
  "stored_ms",
  "dup_ords",
  "dup_ids",
] as const;
/** The columns holding an int4[] or int8[]. */
const PUSH_ANSWER_ARRAYS: ReadonlySet<string> = new Set([
  "stored_ords",
  "stored_ids",
  "stored_ms",
  "dup_ords",
  "dup_ids",
]);

/** The answer's row from its columns' text (null for NULL), in PUSH_ANSWER_COLUMNS' order. */
export function pushAnswerFromText(
  fields: readonly (string | null)[] | null,
): PushAnswerRow | null {
  if (fields === null) return null;
  if (fields.length !== PUSH_ANSWER_COLUMNS.length) {
    throw answerError(`${fields.length} columns, not ${PUSH_ANSWER_COLUMNS.length}`);
  }
  const row: Record<string, unknown> = {};
  for (let i = 0; i < PUSH_ANSWER_COLUMNS.length; i++) {
    const column = PUSH_ANSWER_COLUMNS[i] as string;
    const text = fields[i] as string | null;
    row[column] = text !== null && PUSH_ANSWER_ARRAYS.has(column) ? intArrayText(text) : text;
  }
  return row as PushAnswerRow;
}

const PUSH_STATEMENT = `
  SELECT ${PUSH_ANSWER_COLUMNS.join(", ")}
    FROM chorus_push_ops($1::uuid, $2::uuid, $3::uuid[], $4::bigint[], $5::text[],
                         $6::text[], $7::text[], $8::text[], $9::jsonb, $10::int,
                         $11::int, $12::boolean)`;
/**
 * The push is a named prepared statement on each pool connection: node-postgres sends its text
 * to be parsed on a connection's first push only, and Bind/Execute after that, so neither side
 * serialises or parses it per call (ADR 0035). The name is used for this one text only.
 */
const PUSH_STATEMENT_NAME = "chorus_push_ops";

/**
 * The push of docs/design.md#protocol in ONE statement: the `chorus_push_ops` function (prisma/migrations, ADR
 * 0003) takes the user's advisory lock, reports ops already stored with their existing id,
 * refuses the whole batch when its first new op is not above the device's stored Lamport
 * maximum, inserts the new ops in batch order and raises that maximum, all in the statement's
 * own transaction. The lock makes a user's ids become visible in id order: BIGSERIAL values
 * are taken at insert, not at commit, so without it a reader at id 101 could skip a
 * late-committing id 100 forever. One round trip, and the answer is one row: at the rates a
 * push must carry, round trips and per-value decoding were most of its cost.
 *
 * Before all of that, under the same lock, the batch is checked against the account's
 * encryption key (ADR 0026): the epochs its sealed values name and whether it carries
 * plaintext are read here from the envelopes' clear `e` (no value is opened), and the function
 * refuses the whole batch with `key_epoch_stale` (sealed under another epoch than the current
 * one, or plaintext while the account has a key) or `key_missing` (sealed, no key), storing
 * nothing.
 *
 * The batch goes as one typed array per column (the values as one JSON array), and the answer
 * comes back as arrays of batch positions, ids and created_at in milliseconds (ADR 0036):
 * Postgres walks the batch once without taking fields out of JSON objects, and this side
 * neither builds a JSON text of the whole batch nor parses an object per op.
 *
 * The statement runs prepared on the node-postgres pool under `prisma`, not through Prisma's
 * query engine: on the push path Prisma's per-query work cost as much CPU as the rest of the
 * statement's client side (ADRs 0030, 0035). It runs as a statement of our own
 * (queryPreparedFirstRow) that reads the answer's one row by position, without the row
 * description Postgres would send on every execution (ADR 0047).
 */
export async function pushOps(
  prisma: PrismaClient,
  userId: string,
  deviceId: string,
  ops: OpInput[],
): Promise<PushOutcome> {
  const key = batchKeyUse(ops);
  const count = ops.length;
  // The arrays as the text node-postgres would make of them (pgArrayElement), in one loop.
  let operationIds = "{";
  let lamports = "{";
  let entities = "{";
  let entityIds = "{";
  let fields = "{";
  let kinds = "{";
  const values: unknown[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const op = ops[i] as OpInput;
    const comma = i === 0 ? "" : ",";
    operationIds += comma + pgArrayElement(op.operationId);
    lamports += comma + pgArrayElement(op.lamportTs);
    entities += comma + pgArrayElement(op.entity);
    entityIds += comma + pgArrayElement(op.entityId);
    fields += comma + pgArrayElement(op.field);
    kinds += comma + pgArrayElement(op.op);
    values[i] = op.value;
  }
  const params: (string | number | boolean | null)[] = [
    userId,
    deviceId,
    `${operationIds}}`,
    `${lamports}}`,
    `${entities}}`,
    `${entityIds}}`,
    `${fields}}`,
    `${kinds}}`,
    JSON.stringify(values),
    key.minEpoch,
    key.maxEpoch,
    key.plain,
  ];
  const query = { name: PUSH_STATEMENT_NAME, text: PUSH_STATEMENT, values: params };
  const onPool = queryPreparedFirstRow(prisma, query);
  const row = onPool
    ? pushAnswerFromText(await onPool)
    : (await queryPrepared<PushAnswerRow>(prisma, query))[0];
  const answer = parsePushAnswer(row, count);
  if (answer.kind === "key_epoch_stale") {
    throw new SyncProtocolError(syncError("key_epoch_stale", { epoch: answer.epoch }));
  }
  if (answer.kind === "key_missing") throw new SyncProtocolError(syncError("key_missing", {}));
  if (answer.kind === "lamport_regression") {
    throw new SyncProtocolError(syncError("lamport_regression", { storedMax: answer.storedMax }));
  }

  const results: PushOpResult[] = new Array(count);
  let maxId = 0;
  // Ascending id, which is batch order (the insert's ORDER BY); the answer was checked to ascend.
  const inserted: SyncOp[] = new Array(answer.stored.length);
  for (let k = 0; k < answer.stored.length; k++) {
    const { index, id, createdAt } = answer.stored[k] as (typeof answer.stored)[number];
    const op = ops[index] as OpInput;
    results[index] = { operationId: op.operationId, id, duplicate: false };
    if (id > maxId) maxId = id;
    inserted[k] = {
      operationId: op.operationId,
      lamportTs: op.lamportTs,
      entity: op.entity,
      entityId: op.entityId,
      field: op.field,
      op: op.op,
      value: op.value,
      id,
      deviceId,
      createdAt,
    };
  }
  for (const { index, id } of answer.duplicates) {
    results[index] = { operationId: (ops[index] as OpInput).operationId, id, duplicate: true };
    if (id > maxId) maxId = id;
  }
  return {
    results,
    maxId,
    event: inserted.length > 0 ? { userId, afterId: answer.newestBefore, ops: inserted } : null,
    duplicates: count - inserted.length,
  };
}

/** The per-user lock push takes (inside chorus_push_ops); compaction takes it too. */
export async function lockUser(tx: Prisma.TransactionClient, userId: string): Promise<void> {
  await tx.$executeRawUnsafe(USER_LOCK_STATEMENT, userId);
}

/** The user's newest op id, 0 when none. */
export async function newestOpId(db: Db, userId: string): Promise<number> {
  const rows = await db.$queryRaw<{ newest: bigint | null }[]>`
    SELECT max(id) AS newest FROM sync_op WHERE user_id = ${userId}::uuid`;
  return rows[0]?.newest ? toWireInt(rows[0].newest) : 0;
}

/** The user's compaction watermark (0 when never compacted). */
export async function compactedUpTo(db: Db, userId: string): Promise<number> {
  const rows = await db.$queryRaw<{ compacted_up_to: bigint }[]>`
    SELECT compacted_up_to FROM sync_compaction_watermark WHERE user_id = ${userId}::uuid`;
  return rows[0] ? toWireInt(rows[0].compacted_up_to) : 0;
}

function resyncRequired(watermark: number): SyncProtocolError {
  return new SyncProtocolError(syncError("resync_required", { compactedUpTo: watermark }));
}

/**
 * The user's ops with id > since, ascending. The watermark and the ops are read in ONE
 * statement (one snapshot), so a compaction committing in between cannot delete ops this page
 * needed: a reader at `since` below the watermark may have missed deleted ops and must rebuild
 * from a full pull (since = 0 always works). A reader that has read in order from 0 — a full
 * resync paging on, or a subscription's own backfill after its first page — has every
 * surviving op below its position and skips the check (`checkWatermark: false`).
 */
export async function readOps(
  prisma: PrismaClient,
  userId: string,
  since: number,
  limit: number,
  options: { checkWatermark: boolean; maxBytes?: number } = { checkWatermark: true },
): Promise<SyncOp[]> {
  return (await readPage(prisma, userId, since, limit, options)).ops;
}

/** Bytes an op takes on the wire besides its strings and value (ids, uuids, date, JSON keys). */
const OP_OVERHEAD_BYTES = 200;

/** A row of the page statement: the watermark, and an op unless the page is empty. */
type PageRow = Partial<OpRow> & { watermark: bigint | string; candidates: bigint | string | null };

/** The page statement (see readPage); its text is the same on every call, its values vary. */
function pageStatement(userId: string, since: number, limit: number, maxBytes: bigint) {
  return Prisma.sql`
    SELECT w.watermark, o.*
      FROM (SELECT COALESCE((SELECT compacted_up_to FROM sync_compaction_watermark
                              WHERE user_id = ${userId}::uuid), 0) AS watermark) w
      LEFT JOIN LATERAL (
        SELECT id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value,
               created_at, candidates
          FROM (SELECT p.*,
                       sum(p.bytes) OVER (ORDER BY p.id) AS running,
                       row_number() OVER (ORDER BY p.id) AS n,
                       count(*) OVER () AS candidates
                  FROM (SELECT id, device_id, operation_id, lamport_ts, entity, entity_id, field,
                               op, value, created_at,
                               ${OP_OVERHEAD_BYTES} + octet_length(entity) + octet_length(entity_id)
                                 + COALESCE(octet_length(field), 0)
                                 + COALESCE(octet_length(value::text), 4) AS bytes
                          FROM sync_op
                         WHERE user_id = ${userId}::uuid AND id > ${BigInt(since)}
                         ORDER BY id
                         LIMIT ${limit + 1}) p) c
         WHERE c.n <= ${limit} AND (c.n = 1 OR c.running <= ${maxBytes})) o ON true
     ORDER BY o.id`;
}

/**
 * The name the page statement is prepared under on each of the pool's connections: Postgres
 * parses and plans it once per connection instead of once per page (re-planning was half of
 * its time on a page of a full resync, ADR 0033). Its text never changes within a process.
 */
const PAGE_STATEMENT_NAME = "chorus_read_page";

/** node-postgres leaves bigint (int8) columns as their decimal text; the page keeps them so. */
const INT8_OID = 20;
const TIMESTAMPTZ_OID = 1184;
const keepText = (text: string) => text;
const parseTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ_OID, "text") as (text: string) => Date;

const UTC_TIMESTAMPTZ = /^[1-9]\d{3}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?\+00$/;

/**
 * A timestamptz's text straight to the ISO string the wire carries (`createdAt`), without a
 * Date and postgres-date's regular expressions (7% of the server's CPU for a page of a full
 * resync, ADR 0041). Only Postgres's form in UTC ("2026-12-01 19:41:07.123456+00", four-digit
 * year from 1000, no fraction or 1 to 6 digits) is cut and pasted; the milliseconds are the
 * fraction's first three digits, which is what postgres-date's Date holds (every fraction of
 * 1 to 6 digits checked). Anything else goes through the parser node-postgres uses.
 */
export function isoFromTimestamptz(text: string): string {
  if (UTC_TIMESTAMPTZ.test(text)) {
    const fraction = text.length === 22 ? "000" : `${text.slice(20, -3)}00`.slice(0, 3);
    return `${text.slice(0, 10)}T${text.slice(11, 19)}.${fraction}Z`;
  }
  return parseTimestamptz(text).toISOString();
}
const pageTypes = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID
      ? keepText
      : oid === TIMESTAMPTZ_OID && format !== "binary"
        ? isoFromTimestamptz
        : pg.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser,
};

/**
 * An int8 column's text as a wire integer, refused like toWireInt past 2^53 - 1: every decimal
 * above that parses to a number that is not a safe integer.
 */
function wireIntFromText(text: string | bigint): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${text} does not fit a wire integer (max ${Number.MAX_SAFE_INTEGER})`);
  }
  return value;
}

/** A row of the page as the protocol's op: the same fields, formats and values either way. */
function pageRowToSyncOp(row: PageRow): SyncOp {
  return {
    id: wireIntFromText(row.id as bigint | string),
    deviceId: row.device_id as string,
    operationId: row.operation_id as string,
    lamportTs: wireIntFromText(row.lamport_ts as bigint | string),
    entity: row.entity as string,
    entityId: row.entity_id as string,
    field: row.field ?? null,
    op: row.op as SyncOp["op"],
    value: row.value ?? null,
    createdAt:
      typeof row.created_at === "string" ? row.created_at : (row.created_at as Date).toISOString(),
  };
}

/**
 * A page of the user's ops after `since` (see readOps): at most `limit` ops and, past the first
 * op, at most `maxBytes` of them measured as on the wire. The cut is made inside Postgres
 * (a running sum over the page), so an oversized page is never read into this process.
 * `more` says ops after the page exist now (cut by count or by bytes).
 *
 * The statement runs prepared on the node-postgres pool under `prisma` (queryPrepared), and
 * its rows are mapped to ops once here: a page of a full resync cost the server more in
 * Prisma's row mapping than the engine spends applying it (ADR 0033). A client without such a
 * pool runs the same statement through Prisma, with the same answer (a test compares them).
 */
export async function readPage(
  prisma: PrismaClient,
  userId: string,
  since: number,
  limit: number,
  options: { checkWatermark: boolean; maxBytes?: number } = { checkWatermark: true },
): Promise<{ ops: SyncOp[]; more: boolean }> {
  const maxBytes = BigInt(options.maxBytes ?? Number.MAX_SAFE_INTEGER);
  const statement = pageStatement(userId, since, limit, maxBytes);
  const rows = await queryPrepared<PageRow>(prisma, {
    name: PAGE_STATEMENT_NAME,
    text: statement.text,
    values: statement.values,
    types: pageTypes,
  });
  const first = rows[0];
  const watermark = first ? wireIntFromText(first.watermark) : 0;
  if (options.checkWatermark && since > 0 && since < watermark) throw resyncRequired(watermark);
  const ops: SyncOp[] = [];
  for (const row of rows) if (row.id != null) ops.push(pageRowToSyncOp(row));
  const candidates = Number(first?.candidates ?? 0);
  return { ops, more: candidates > ops.length };
}
