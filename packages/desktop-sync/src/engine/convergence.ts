import { createHash } from "node:crypto";
import type { AppRouter } from "@chorus/api";
import {
  AUDIT_BUCKETS,
  type AuditDetailRow,
  type AuditDifference,
  type AuditInput,
  type AuditNotComparable,
  type AuditOutcome,
  type AuditTrigger,
  auditBucket,
  auditDetailRow,
  auditRows,
  digestAudit,
  MAX_AUDIT_DETAIL_BYTES,
  MAX_AUDIT_DETAIL_ROWS,
} from "@chorus/protocol";
import type { TRPCClient } from "@trpc/client";
import type { LibraryState } from "../library-state.js";
import { loadAllRegisters } from "../lww/registers.js";
import { pendingCount } from "../queue.js";

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
  detail(bucket: number): { rows: AuditDetailRow[]; complete: boolean };
}

/** The library's synced state at its cursor, digested (one read transaction). */
export function snapshotForAudit(library: LibraryState, trigger: AuditTrigger): Snapshot {
  const { db } = library;
  const { rows, cursor, pendingOps } = db.transaction(() => ({
    rows: auditRows(loadAllRegisters(db)),
    cursor: library.cursor(),
    pendingOps: pendingCount(db),
  }))();
  const digest = digestAudit(rows, sha256);
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
      const inBucket = rows.filter((row) => auditBucket(row.entity, row.entityId) === bucket);
      const out: AuditDetailRow[] = [];
      let bytes = 0;
      for (const row of inBucket) {
        const wire = auditDetailRow(row, sha256);
        bytes += JSON.stringify(wire).length + 1;
        if (out.length >= MAX_AUDIT_DETAIL_ROWS || bytes > MAX_AUDIT_DETAIL_BYTES) {
          return { rows: out, complete: false };
        }
        out.push(wire);
      }
      return { rows: out, complete: true };
    },
  };
}

/** Runs one audit against the server through `trpc`. */
export async function runAudit(
  trpc: TRPCClient<AppRouter>,
  library: LibraryState,
  trigger: AuditTrigger,
  signal: () => AbortSignal,
): Promise<ConvergenceAudit> {
  const snapshot = snapshotForAudit(library, trigger);
  const answer = await trpc.diagnostics.audit.mutate(snapshot.input, { signal: signal() });
  let firstDifference: AuditDifference | null = null;
  const bucket = answer.differingBuckets[0];
  if (answer.outcome === "mismatch" && bucket !== undefined && bucket < AUDIT_BUCKETS) {
    const detail = snapshot.detail(bucket);
    const resolved = await trpc.diagnostics.auditDetail.mutate(
      { auditId: answer.auditId, bucket, ...detail },
      { signal: signal() },
    );
    firstDifference = resolved.firstDifference;
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
