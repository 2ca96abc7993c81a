import { Prisma, type PrismaClient, queryPrepared, USER_LOCK_STATEMENT } from "@chorus/db";
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
import { z } from "zod";
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
  created_at: Date;
}

export interface PushOutcome {
  results: PushOpResult[];
  maxId: number;
  /** What to publish after commit; null when every op was a duplicate. */
  event: OpsEvent | null;
  duplicates: number;
}

const StoredOp = z.object({ operationId: z.string(), id: z.number(), createdAt: z.string() });

/** What chorus_push_ops answers (see its migration), parsed before it is trusted. */
export const PushAnswer = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("ok"),
    newestBefore: z.number(),
    storedMax: z.number(),
    stored: z.array(StoredOp),
    duplicates: z.array(StoredOp.omit({ createdAt: true })),
  }),
  z.object({
    kind: z.literal("lamport_regression"),
    newestBefore: z.number(),
    storedMax: z.number(),
  }),
  z.object({ kind: z.literal("key_epoch_stale"), epoch: z.number() }),
  z.object({ kind: z.literal("key_missing") }),
]);
export type PushAnswer = z.infer<typeof PushAnswer>;

/** The push function answered something this code does not understand: a server bug. */
export class PushAnswerError extends Error {
  override name = "PushAnswerError";
}

/** Parses chorus_push_ops' answer; a wrong shape is a PushAnswerError naming what is wrong. */
export function parsePushAnswer(raw: unknown): PushAnswer {
  const parsed = PushAnswer.safeParse(raw);
  if (!parsed.success) {
    throw new PushAnswerError(
      `chorus_push_ops answered an unexpected shape: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

const PUSH_STATEMENT = `
  SELECT chorus_push_ops($1::uuid, $2::uuid, $3::jsonb, $4::int, $5::int, $6::boolean) AS answer`;
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
 * late-committing id 100 forever. One round trip, one JSON parameter, one JSON answer: at the
 * rates a push must carry, round trips and per-value decoding were most of its cost.
 *
 * Before all of that, under the same lock, the batch is checked against the account's
 * encryption key (ADR 0026): the epochs its sealed values name and whether it carries
 * plaintext are read here from the envelopes' clear `e` (no value is opened), and the function
 * refuses the whole batch with `key_epoch_stale` (sealed under another epoch than the current
 * one, or plaintext while the account has a key) or `key_missing` (sealed, no key), storing
 * nothing.
 *
 * The statement runs prepared on the node-postgres pool under `prisma` (queryPrepared), not
 * through Prisma's query engine: on the push path Prisma's per-query work cost as much CPU as
 * the rest of the statement's client side (ADRs 0030, 0035).
 */
export async function pushOps(
  prisma: PrismaClient,
  userId: string,
  deviceId: string,
  ops: OpInput[],
): Promise<PushOutcome> {
  const key = batchKeyUse(ops);
  const params = [userId, deviceId, JSON.stringify(ops), key.minEpoch, key.maxEpoch, key.plain];
  const [row] = await queryPrepared<{ answer: unknown }>(prisma, {
    name: PUSH_STATEMENT_NAME,
    text: PUSH_STATEMENT,
    values: params,
  });
  const answer = parsePushAnswer(row?.answer);
  if (answer.kind === "key_epoch_stale") {
    throw new SyncProtocolError(syncError("key_epoch_stale", { epoch: answer.epoch }));
  }
  if (answer.kind === "key_missing") throw new SyncProtocolError(syncError("key_missing", {}));
  if (answer.kind === "lamport_regression") {
    throw new SyncProtocolError(
      syncError("lamport_regression", { storedMax: toWireInt(answer.storedMax) }),
    );
  }

  const stored = new Map(answer.stored.map((op) => [op.operationId, op]));
  const duplicates = new Map(answer.duplicates.map((op) => [op.operationId, op.id]));
  const results: PushOpResult[] = [];
  const inserted: SyncOp[] = [];
  for (const op of ops) {
    const fresh = stored.get(op.operationId);
    const storedId = fresh?.id ?? duplicates.get(op.operationId);
    if (storedId === undefined)
      throw new PushAnswerError(`chorus_push_ops returned no id for ${op.operationId}`);
    const id = toWireInt(storedId);
    results.push({ operationId: op.operationId, id, duplicate: !fresh });
    if (fresh) inserted.push({ ...op, id, deviceId, createdAt: fresh.createdAt });
  }
  inserted.sort((a, b) => a.id - b.id); // batch order already, by the insert's ORDER BY
  return {
    results,
    maxId: Math.max(...results.map((r) => r.id)),
    event:
      inserted.length > 0
        ? { userId, afterId: toWireInt(answer.newestBefore), ops: inserted }
        : null,
    duplicates: ops.length - inserted.length,
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
const keepText = (text: string) => text;
const pageTypes = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID
      ? keepText
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
    createdAt: (row.created_at as Date).toISOString(),
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
