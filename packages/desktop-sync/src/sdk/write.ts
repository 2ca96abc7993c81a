import { OpInput } from "@chorus/protocol";
import { EngineError } from "../errors.js";
import type { OpDraft } from "../library-state.js";
import { lastPendingId, type PendingOp, pendingAfter } from "../queue.js";
import type { SqliteDatabase } from "../store/sqlite.js";
import { materializerOf } from "./install.js";

/*
 * The app's write, run by the engine inside its transaction. The triggers have already
 * queued, stamped and folded every op by the time the app's SQL returns; this only reads back
 * what the write captured, so that:
 *
 *   - an op the server could never store (U+0000 or a lone surrogate in a string, a value
 *     over MAX_VALUE_BYTES) fails the write with `invalid_input`, and the transaction rolls
 *     back: nothing is written, nothing queued, the clock does not move;
 *   - a row this write made that parked children were waiting for (a content-hash parent
 *     made on two devices alike) releases them.
 */
export function captureWrite<T>(
  db: SqliteDatabase,
  fn: (db: SqliteDatabase) => T,
  onOp?: (op: OpInput) => void,
): { result: T; ops: PendingOp[] } {
  const before = lastPendingId(db);
  const result = fn(db);
  const ops = pendingAfter(db, before);
  for (const op of ops) {
    const checked = OpInput.safeParse({
      operationId: op.operationId,
      lamportTs: op.lamportTs,
      entity: op.entity,
      entityId: op.entityId,
      field: op.field,
      op: op.op,
      value: op.value,
    });
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new EngineError(
        "invalid_input",
        `this change cannot be synced: ${issue?.message ?? "it breaks a rule of the sync protocol"}`,
        { entity: op.entity, field: op.field },
      );
    }
    onOp?.(op);
  }
  const materializer = materializerOf(db);
  if (ops.length > 0 && materializer && materializer.parkedCount() > 0) materializer.releaseAll();
  return { result, ops };
}

const ROLLBACK = Symbol("rollback");

/**
 * Runs the write and rolls it back, answering the ops it would have made (as drafts, without
 * timestamps): server-connected mode pushes them first and shows them once accepted.
 */
export function dryRunWrite<T>(
  db: SqliteDatabase,
  fn: (db: SqliteDatabase) => T,
): { result: T; drafts: OpDraft[] } {
  let captured: { result: T; drafts: OpDraft[] } | undefined;
  try {
    db.transaction(() => {
      const { result, ops } = captureWrite(db, fn);
      captured = {
        result,
        drafts: ops.map(({ entity, entityId, field, op, value }) => ({
          entity,
          entityId,
          field,
          op,
          value,
        })),
      };
      throw ROLLBACK;
    }).immediate();
  } catch (error) {
    if (error !== ROLLBACK) throw error;
  }
  if (!captured) throw new Error("dry run ended without a result");
  return captured;
}
