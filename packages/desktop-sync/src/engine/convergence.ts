import { createHash } from "node:crypto";
import type { AppRouter } from "@chorus/api";
import {
  AUDIT_BUCKETS,
  type AuditDetailRow,
  type AuditDifference,
  AuditDigester,
  type AuditInput,
  type AuditNotComparable,
  type AuditOutcome,
  type AuditRow,
  type AuditTrigger,
  auditBucket,
  auditDetailRow,
  auditLine,
  auditRows,
  compareAuditRows,
  MAX_AUDIT_DETAIL_BYTES,
  MAX_AUDIT_DETAIL_ROWS,
} from "@chorus/protocol";
import type { TRPCClient } from "@trpc/client";
import type { LibraryState } from "../library-state.js";
import { forEachRegisterPage, loadAllRegisters } from "../lww/registers.js";
import { pendingCount } from "../queue.js";
import type { SqliteDatabase } from "../store/sqlite.js";

/*
 * The device's side of the convergence audit (docs/adr/0019-convergence-audit-and-lag-history.md):
 * read the registers, the cursor and the queue in one read transaction, digest the registers
 * with the protocol's canonical rows, and let the server compare them with the log at that
 * cursor. When the digests differ, the rows of the first differing bucket go up, so the server
 * can name the first differing entity and field with both values.
 */

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

export interface ConvergenceAudit {
  auditId: string;
  outcome: AuditOutcome;
  reason: AuditNotComparable | null;
  cursor: number;
  pendingOps: number;
  rows: number;
  hash: string;
  serverHash: string | null;
  serverRows: number | null;
  /** The first differing row of a mismatch (entity, id, field, device value, server value). */
  firstDifference: AuditDifference | null;
}

interface Snapshot {
  input: AuditInput;
  /** The rows of one bucket, read again; null when the library changed since the digest. */
  detail(bucket: number): { rows: AuditDetailRow[]; complete: boolean } | null;
}

/**
 * How long an audit call may wait for its answer: the server's bound on the transaction that
 * reads the log (packages/api/src/diagnostics/convergence.ts).
 */
export const AUDIT_REQUEST_TIMEOUT_MS = 120_000;

/** Entities read per page while streaming the registers. */
const SNAPSHOT_PAGE = 1_000;

/**
 * Streams the audit rows of every stored register in row order, a page of entities at a time
 * (memory: one page, whatever the library's size). The registers come in SQLite's BINARY
 * order of (entity, entity_id) and each entity's rows in the protocol's order: the same as
 * the rows' code-unit order for every entity id without characters above U+FFFF or in
 * U+E000..U+FFFF. The scan answers false as soon as it meets rows out of the protocol's order
 * (the caller then sorts in memory). Call inside a read transaction.
 */
function streamAuditRows(db: SqliteDatabase, visit: (row: AuditRow) => void): boolean {
  let previous: AuditRow | null = null;
  let ordered = true;
  forEachRegisterPage(db, { pageSize: SNAPSHOT_PAGE }, (page) => {
    if (!ordered) return;
    for (const state of page) {
      for (const row of auditRows(state)) {
        if (previous && compareAuditRows(previous, row) >= 0) {
          ordered = false;
          return;
        }
        previous = row;
        visit(row);
      }
    }
  });
  return ordered;
}

/** The rows of one bucket as an audit's detail carries them (the first ones that fit). */
function detailOf(rows: Iterable<AuditRow>): { rows: AuditDetailRow[]; complete: boolean } {
  const out: AuditDetailRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    const wire = auditDetailRow(row, sha256);
    bytes += JSON.stringify(wire).length + 1;
    if (out.length >= MAX_AUDIT_DETAIL_ROWS || bytes > MAX_AUDIT_DETAIL_BYTES) {
      return { rows: out, complete: false };
    }
    out.push(wire);
  }
  return { rows: out, complete: true };
}

/**
 * The library's synced state at its cursor, digested (one read transaction). The registers
 * are streamed through the digests a page of entities at a time, so memory does not grow
 * with the library (a 1,000,000-op account's 400,000 registers once took ~400 MiB held at
 * once). The detail of a differing bucket is read again when asked for, in a new read
 * transaction: when the library changed since the digest (the bucket's digest is no longer
 * the one sent), there is no detail to give, and `detail` answers null.
 */
export function snapshotForAudit(library: LibraryState, trigger: AuditTrigger): Snapshot {
  const { db } = library;
  const { digest, cursor, pendingOps } = db.transaction(() => {
    let streamed = new AuditDigester(() => createHash("sha256"));
    if (!streamAuditRows(db, (row) => streamed.add(row))) {
      // Texts SQLite orders otherwise than the protocol: sort them in memory (bounded by
      // the library, as before streaming).
      streamed = new AuditDigester(() => createHash("sha256"));
      for (const row of auditRows(loadAllRegisters(db))) streamed.add(row);
    }
    return { digest: streamed.digest(), cursor: library.cursor(), pendingOps: pendingCount(db) };
  })();
  return {
    input: {
      trigger,
      cursor,
      pendingOps,
      rows: digest.rows,
      hash: digest.hash,
      buckets: digest.buckets,
    },
    detail(bucket) {
      const inBucket = db.transaction(() => {
        const rows: AuditRow[] = [];
        const keep = (row: AuditRow) => {
          if (auditBucket(row.entity, row.entityId) === bucket) rows.push(row);
        };
        if (!streamAuditRows(db, keep)) {
          rows.length = 0;
          for (const row of auditRows(loadAllRegisters(db))) keep(row);
        }
        return rows;
      })();
      const now = sha256(inBucket.map(auditLine).join("\n")).slice(0, 16);
      if (now !== digest.buckets[bucket]) return null;
      return detailOf(inBucket);
    },
  };
}

/** Error codes of a request whose connection closed before any answer came back. */
const CONNECTION_CLOSED = new Set(["UND_ERR_SOCKET", "EPIPE", "ECONNRESET"]);

function connectionClosed(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ("code" in e && CONNECTION_CLOSED.has(String(e.code))) return true;
  }
  return false;
}

/**
 * Sends an audit call, and once more on a fresh connection when the first one's connection was
 * closed under it (ADR 0032). After a large rebuild the engine's thread was held for seconds
 * (the rebuild's transaction, the digest), long enough for the server to close the pull's idle
 * keep-alive connection; the engine has not read that close yet when it writes the audit onto
 * that connection, which fails ("other side closed", "write EPIPE"). The request never reached
 * the server's handler there, and an audit call asked twice is only recorded twice, so asking
 * again is safe; other failures (a timeout, a refusal) are not retried here.
 */
async function sendAgainIfClosed<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!connectionClosed(error)) throw error;
    return call();
  }
}

/** Runs one audit against the server through `trpc`. */
export async function runAudit(
  trpc: TRPCClient<AppRouter>,
  library: LibraryState,
  trigger: AuditTrigger,
  signal: () => AbortSignal,
): Promise<ConvergenceAudit> {
  const snapshot = snapshotForAudit(library, trigger);
  const answer = await sendAgainIfClosed(() =>
    trpc.diagnostics.audit.mutate(snapshot.input, { signal: signal() }),
  );
  let firstDifference: AuditDifference | null = null;
  const bucket = answer.differingBuckets[0];
  if (answer.outcome === "mismatch" && bucket !== undefined && bucket < AUDIT_BUCKETS) {
    const detail = snapshot.detail(bucket);
    if (detail) {
      const resolved = await sendAgainIfClosed(() =>
        trpc.diagnostics.auditDetail.mutate(
          { auditId: answer.auditId, bucket, ...detail },
          { signal: signal() },
        ),
      );
      firstDifference = resolved.firstDifference;
    }
  }
  return {
    auditId: answer.auditId,
    outcome: answer.outcome,
    reason: answer.reason,
    cursor: snapshot.input.cursor,
    pendingOps: snapshot.input.pendingOps,
    rows: snapshot.input.rows,
    hash: snapshot.input.hash,
    serverHash: answer.serverHash,
    serverRows: answer.serverRows,
    firstDifference,
  };
}
