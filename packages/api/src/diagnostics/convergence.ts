import { createHash } from "node:crypto";
import type { PrismaClient } from "@chorus/db";
import {
  type AuditDetailInput,
  type AuditDetailRow,
  type AuditDifference,
  AuditDigester,
  type AuditInput,
  type AuditNotComparable,
  type AuditOutcome,
  type AuditRow,
  applyOp,
  auditBucket,
  auditDetailRow,
  auditRows,
  compareAuditRows,
  createLwwState,
  firstDifference,
  type JsonValue,
  type LwwOp,
} from "@chorus/protocol";

/*
 * The server's side of the convergence audit (docs/adr/0019-convergence-audit-and-lag-history.md).
 * The device says where it is (its cursor) and digests its state; the server folds, with the
 * same conflict rule, the ops a device at that cursor holds: the user's ops up to the cursor
 * (below the watermark, compaction's survivors: they describe the same state) plus the
 * device's own ops after it (it folded them when it made them). Everything is read in one
 * REPEATABLE READ snapshot, so a compaction committing meanwhile cannot tear the read.
 */

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const newDigester = () => new AuditDigester(() => createHash("sha256"));

/** Audits kept per device; older ones are deleted as new ones arrive. */
export const AUDITS_KEPT_PER_DEVICE = 20;

/** Ops fetched per round trip while streaming the log. */
export const AUDIT_FETCH_ROWS = 5_000;

interface OpRow {
  operation_id: string;
  lamport_ts: bigint;
  device_id: string;
  entity: string;
  entity_id: string;
  field: string | null;
  op: LwwOp["op"];
  value: JsonValue | null;
}

const toLwwOp = (row: OpRow): LwwOp => ({
  operationId: row.operation_id,
  lamportTs: Number(row.lamport_ts),
  deviceId: row.device_id,
  entity: row.entity,
  entityId: row.entity_id,
  field: row.field,
  op: row.op,
  value: row.value,
});

type ServerState =
  | { comparable: false; reason: AuditNotComparable; ownUpTo: number | null }
  | { comparable: true; ownUpTo: number };

/** Where the state's rows go, in row order; called again when the rows start over. */
export type AuditRowSink = () => (row: AuditRow) => void;

/** How the log is read: in entity order through a cursor (the default), or all at once. */
export interface AuditReadOptions {
  /** Ops per FETCH (tests make it small so a state spans many fetches). */
  fetchRows?: number;
  /** Fold the whole log in memory in id order (the reference the streamed fold must equal). */
  inMemory?: boolean;
}

/**
 * The state a device at `cursor` holds, as audit rows handed to `sink` in row order, or why it
 * cannot be known: the device is below the watermark (the ops it had are gone) or claims a
 * position past the newest op. `ownUpTo` bounds the device's own ops after the cursor (fixed
 * by the first read, so the detail of an audit reads the same set as its digest).
 *
 * Memory is bounded by one entity's ops and one fetch, whatever the log's size (ADR 0032):
 * PostgreSQL sorts the ops by (entity, entity_id) in byte order, then by id (its sorter
 * spills to disk), and a cursor hands them over a fetch at a time; each entity's ops are
 * folded with the same `applyOp`, in id order, into a state of that entity alone, whose rows
 * go to the sink. Folding per entity gives the same registers as folding the whole log
 * (`applyOp` only touches the op's own entity), and byte order of UTF-8 is the rows'
 * code-unit order except for texts with characters above U+FFFF beside U+E000..U+FFFF: a
 * stream that meets rows out of order starts over with the whole log folded in memory.
 */
export async function serverAuditState(
  prisma: PrismaClient,
  input: { userId: string; deviceId: string; cursor: number; ownUpTo?: number | null },
  sink: AuditRowSink,
  options: AuditReadOptions = {},
): Promise<ServerState> {
  const { userId, deviceId, cursor } = input;
  const fetchRows = options.fetchRows ?? AUDIT_FETCH_ROWS;
  return prisma.$transaction(
    async (tx) => {
      const [head] = await tx.$queryRaw<{ newest: bigint | null; watermark: bigint | null }[]>`
        SELECT (SELECT max(id) FROM sync_op WHERE user_id = ${userId}::uuid) AS newest,
               (SELECT compacted_up_to FROM sync_compaction_watermark
                 WHERE user_id = ${userId}::uuid) AS watermark`;
      const newest = Number(head?.newest ?? 0n);
      const watermark = Number(head?.watermark ?? 0n);
      let ownUpTo = input.ownUpTo ?? null;
      if (ownUpTo === null) {
        const [own] = await tx.$queryRaw<{ own: bigint | null }[]>`
          SELECT max(id) AS own FROM sync_op
           WHERE user_id = ${userId}::uuid AND device_id = ${deviceId}::uuid`;
        ownUpTo = Number(own?.own ?? 0n);
      }
      if (cursor > newest) return { comparable: false, reason: "beyond_head", ownUpTo };
      if (cursor < watermark) return { comparable: false, reason: "below_watermark", ownUpTo };
      const held = { userId, deviceId, cursor, ownUpTo, fetchRows };
      if (options.inMemory || !(await streamByEntity(tx, held, sink()))) {
        await foldInMemory(tx, held, sink());
      }
      return { comparable: true, ownUpTo };
    },
    { isolationLevel: "RepeatableRead", timeout: 120_000, maxWait: 20_000 },
  );
}

type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

interface HeldOps {
  userId: string;
  deviceId: string;
  cursor: number;
  ownUpTo: number;
  fetchRows: number;
}

/**
 * The rows of the held ops, one entity at a time (see serverAuditState). Answers false, having
 * stopped, when the rows do not come in row order.
 */
async function streamByEntity(
  tx: Tx,
  { userId, deviceId, cursor, ownUpTo, fetchRows }: HeldOps,
  visit: (row: AuditRow) => void,
): Promise<boolean> {
  await tx.$executeRaw`
    DECLARE chorus_audit_ops NO SCROLL CURSOR FOR
      SELECT operation_id::text AS operation_id, lamport_ts, device_id::text AS device_id,
             entity, entity_id, field, op::text AS op, value
        FROM sync_op
       WHERE user_id = ${userId}::uuid
         AND (id <= ${cursor} OR (device_id = ${deviceId}::uuid AND id <= ${ownUpTo}))
       ORDER BY entity COLLATE "C", entity_id COLLATE "C", id`;
  let previous: AuditRow | null = null;
  let entity: LwwOp[] = [];
  const flush = (): boolean => {
    if (entity.length === 0) return true;
    const state = createLwwState();
    for (const op of entity) applyOp(state, op);
    entity = [];
    for (const row of auditRows(state)) {
      if (previous && compareAuditRows(previous, row) >= 0) return false;
      previous = row;
      visit(row);
    }
    return true;
  };
  const fetch = `FETCH ${Math.max(1, Math.floor(fetchRows))} FROM chorus_audit_ops`;
  let ordered = true;
  for (let more = true; more && ordered; ) {
    const page = await tx.$queryRawUnsafe<OpRow[]>(fetch);
    for (const row of page) {
      const last = entity.at(-1);
      if (last && (last.entity !== row.entity || last.entityId !== row.entity_id)) {
        ordered = flush();
        if (!ordered) break;
      }
      entity.push(toLwwOp(row));
    }
    more = page.length === fetchRows;
  }
  if (ordered) ordered = flush();
  // (A failed read aborts the transaction, which closes the cursor with it.)
  await tx.$executeRaw`CLOSE chorus_audit_ops`;
  return ordered;
}

/** The rows of the held ops folded all at once in id order (memory: the whole state). */
async function foldInMemory(
  tx: Tx,
  { userId, deviceId, cursor, ownUpTo, fetchRows }: HeldOps,
  visit: (row: AuditRow) => void,
): Promise<void> {
  const state = createLwwState();
  for (let after = 0n; ; ) {
    const page = await tx.$queryRaw<(OpRow & { id: bigint })[]>`
      SELECT id, operation_id::text AS operation_id, lamport_ts, device_id::text AS device_id,
             entity, entity_id, field, op::text AS op, value
        FROM sync_op
       WHERE user_id = ${userId}::uuid AND id > ${after}
         AND (id <= ${cursor} OR (device_id = ${deviceId}::uuid AND id <= ${ownUpTo}))
       ORDER BY id
       LIMIT ${fetchRows}`;
    for (const row of page) applyOp(state, toLwwOp(row));
    if (page.length < fetchRows) break;
    after = page[page.length - 1]?.id ?? after;
  }
  for (const row of auditRows(state)) visit(row);
}

export interface AuditAnswer {
  auditId: string;
  outcome: AuditOutcome;
  reason: AuditNotComparable | null;
  serverHash: string | null;
  serverRows: number | null;
  /** Buckets whose digests differ, in order; the device sends the first one's rows. */
  differingBuckets: number[];
}

/** Compares a device's digests with the server's and records the audit. */
export async function runConvergenceAudit(
  prisma: PrismaClient,
  device: { id: string; userId: string },
  input: AuditInput,
  options: AuditReadOptions = {},
): Promise<AuditAnswer> {
  let outcome: AuditOutcome;
  let reason: AuditNotComparable | null = null;
  let serverHash: string | null = null;
  let serverRows: number | null = null;
  let differingBuckets: number[] = [];
  let ownUpTo: number | null = null;
  if (input.pendingOps > 0) {
    // The server cannot know ops it never received: the device's state is ahead of any log.
    outcome = "not_comparable";
    reason = "pending_ops";
  } else {
    let digester = newDigester();
    const state = await serverAuditState(
      prisma,
      { userId: device.userId, deviceId: device.id, cursor: input.cursor },
      () => {
        const fresh = newDigester();
        digester = fresh;
        return (row) => fresh.add(row);
      },
      options,
    );
    ownUpTo = state.ownUpTo;
    if (!state.comparable) {
      outcome = "not_comparable";
      reason = state.reason;
    } else {
      const digest = digester.digest();
      serverHash = digest.hash;
      serverRows = digest.rows;
      outcome = digest.hash === input.hash ? "match" : "mismatch";
      differingBuckets =
        outcome === "match"
          ? []
          : digest.buckets.flatMap((d, i) => (d === input.buckets[i] ? [] : [i]));
    }
  }
  const [stored] = await prisma.$queryRaw<{ id: bigint }[]>`
    INSERT INTO device_convergence_audit (device_id, user_id, trigger, cursor, own_up_to,
      pending_ops, device_hash, device_rows, server_hash, server_rows, outcome, reason,
      differing_buckets)
    VALUES (${device.id}::uuid, ${device.userId}::uuid, ${input.trigger}, ${input.cursor},
      ${ownUpTo}, ${input.pendingOps}, ${input.hash}, ${input.rows}, ${serverHash}, ${serverRows},
      ${outcome}, ${reason}, ${differingBuckets}::int[])
    RETURNING id`;
  await prisma.$executeRaw`
    DELETE FROM device_convergence_audit
     WHERE device_id = ${device.id}::uuid
       AND id NOT IN (SELECT id FROM device_convergence_audit WHERE device_id = ${device.id}::uuid
                       ORDER BY id DESC LIMIT ${AUDITS_KEPT_PER_DEVICE})`;
  await prisma.$executeRaw`DELETE FROM device_audit_request WHERE device_id = ${device.id}::uuid`;
  return {
    auditId: String(stored?.id ?? 0n),
    outcome,
    reason,
    serverHash,
    serverRows,
    differingBuckets,
  };
}

export class AuditNotFound extends Error {}

/**
 * The device's rows of one differing bucket against the server's: names the first difference
 * (entity, id, field, both values) and stores it on the audit.
 */
export async function resolveAuditDetail(
  prisma: PrismaClient,
  device: { id: string; userId: string },
  input: AuditDetailInput,
): Promise<{ firstDifference: AuditDifference | null }> {
  const [audit] = await prisma.$queryRaw<
    { cursor: bigint; own_up_to: bigint | null; outcome: string; differing_buckets: number[] }[]
  >`
    SELECT cursor, own_up_to, outcome, differing_buckets FROM device_convergence_audit
     WHERE id = ${BigInt(input.auditId)} AND device_id = ${device.id}::uuid`;
  if (audit?.outcome !== "mismatch" || !audit.differing_buckets.includes(input.bucket)) {
    throw new AuditNotFound("no mismatched audit of this device with that bucket");
  }
  // A detail cut to fit the request compares only up to the last row the device sent.
  const last = input.complete ? undefined : input.rows.at(-1);
  // Only the bucket's rows are kept (about 1/AUDIT_BUCKETS of the state).
  let serverRows: AuditDetailRow[] = [];
  const state = await serverAuditState(
    prisma,
    {
      userId: device.userId,
      deviceId: device.id,
      cursor: Number(audit.cursor),
      ownUpTo: audit.own_up_to === null ? null : Number(audit.own_up_to),
    },
    () => {
      const rows: AuditDetailRow[] = [];
      serverRows = rows;
      return (row) => {
        if (auditBucket(row.entity, row.entityId) !== input.bucket) return;
        if (last !== undefined && compareAuditRows(row, last) > 0) return;
        rows.push(auditDetailRow(row, sha256));
      };
    },
  );
  if (!state.comparable) serverRows = [];
  const difference = firstDifference(input.rows, serverRows);
  await prisma.$executeRaw`
    UPDATE device_convergence_audit
       SET first_difference = ${difference === null ? null : JSON.stringify(difference)}::jsonb
     WHERE id = ${BigInt(input.auditId)}`;
  return { firstDifference: difference };
}

/** An administrator asks a device to audit itself (it learns it from its next report's answer). */
export async function requestAudit(
  prisma: PrismaClient,
  deviceId: string,
  requestedBy: string,
): Promise<void> {
  await prisma.$executeRaw`
    INSERT INTO device_audit_request (device_id, requested_by)
    VALUES (${deviceId}::uuid, ${requestedBy}::uuid)
    ON CONFLICT (device_id) DO UPDATE SET requested_at = CURRENT_TIMESTAMP,
      requested_by = EXCLUDED.requested_by`;
}

export async function auditRequested(prisma: PrismaClient, deviceId: string): Promise<boolean> {
  const rows = await prisma.$queryRaw<{ one: number }[]>`
    SELECT 1 AS one FROM device_audit_request WHERE device_id = ${deviceId}::uuid`;
  return rows.length > 0;
}

export interface StoredAudit {
  id: string;
  at: string;
  trigger: string;
  cursor: number;
  pendingOps: number;
  outcome: AuditOutcome;
  reason: AuditNotComparable | null;
  deviceHash: string;
  serverHash: string | null;
  deviceRows: number;
  serverRows: number | null;
  firstDifference: AuditDifference | null;
}

/** A device's newest audits, newest first, and whether an audit is asked of it now. */
export async function readAudits(
  prisma: PrismaClient,
  deviceId: string,
  limit: number,
): Promise<{ audits: StoredAudit[]; requestedAt: string | null }> {
  const rows = await prisma.$queryRaw<
    {
      id: bigint;
      at: Date;
      trigger: string;
      cursor: bigint;
      pending_ops: number;
      outcome: AuditOutcome;
      reason: AuditNotComparable | null;
      device_hash: string;
      server_hash: string | null;
      device_rows: number;
      server_rows: number | null;
      first_difference: AuditDifference | null;
    }[]
  >`
    SELECT id, at, trigger, cursor, pending_ops, outcome, reason, device_hash, server_hash,
           device_rows, server_rows, first_difference
      FROM device_convergence_audit WHERE device_id = ${deviceId}::uuid
     ORDER BY id DESC LIMIT ${limit}`;
  const [request] = await prisma.$queryRaw<{ requested_at: Date }[]>`
    SELECT requested_at FROM device_audit_request WHERE device_id = ${deviceId}::uuid`;
  return {
    audits: rows.map((row) => ({
      id: String(row.id),
      at: row.at.toISOString(),
      trigger: row.trigger,
      cursor: Number(row.cursor),
      pendingOps: row.pending_ops,
      outcome: row.outcome,
      reason: row.reason,
      deviceHash: row.device_hash,
      serverHash: row.server_hash,
      deviceRows: row.device_rows,
      serverRows: row.server_rows,
      firstDifference: row.first_difference,
    })),
    requestedAt: request?.requested_at.toISOString() ?? null,
  };
}
