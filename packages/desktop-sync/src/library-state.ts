import { randomUUID } from "node:crypto";
import { type JsonValue, type LwwOp, OpInput, type OpKind, type SyncOp } from "@chorus/protocol";
import type { LamportClock } from "./clock.js";
import { EngineError } from "./errors.js";
import { clearDomain, writeDomainRow } from "./library/domain.js";
import { clearRegisters, foldOp } from "./lww/registers.js";
import { allPending, enqueue } from "./queue.js";
import { readMeta, writeMeta } from "./store/meta.js";
import type { SqliteDatabase } from "./store/sqlite.js";

/** A change the library wants to make, before it gets a timestamp and an id. */
export interface OpDraft {
  entity: string;
  entityId: string;
  field: string | null;
  op: OpKind;
  value: JsonValue | null;
}

/** Test seams: a failpoint between the domain write and the queue insert. */
export interface LibraryStateHooks {
  afterDomainWrite?(op: OpInput): void;
}

/**
 * One profile's library state: the LWW registers, the domain rows derived from them, the
 * pending queue and the cursor, in one SQLite database (the profile file, or an in-memory
 * one in server-connected mode). Every method expects to run inside the caller's transaction,
 * so a domain write and its queued op commit together or not at all.
 */
export class LibraryState {
  constructor(
    readonly db: SqliteDatabase,
    readonly clock: LamportClock,
    private readonly deviceId: () => string,
    private readonly hooks: LibraryStateHooks = {},
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Gives a draft its Lamport timestamp (from the persisted clock) and a fresh operation id,
   * and checks it against the protocol's rules: an op the server would refuse for good (a
   * string with U+0000 or a lone surrogate, a value over its size limit) is refused here with
   * a clear error, before anything is written or queued.
   */
  stamp(draft: OpDraft, options: { check: boolean } = { check: true }): OpInput {
    const op = { ...draft, operationId: randomUUID(), lamportTs: this.clock.next() };
    if (!options.check) return op;
    const checked = OpInput.safeParse(op);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new EngineError(
        "invalid_input",
        `this change cannot be synced: ${issue?.message ?? "it breaks a rule of the sync protocol"}`,
        { entity: draft.entity, field: draft.field },
      );
    }
    return op;
  }

  /** Folds an op into the registers and rewrites the domain row it touched. */
  fold(op: LwwOp): void {
    const view = foldOp(this.db, op);
    if (view) writeDomainRow(this.db, view, this.now());
  }

  /** Folds an op made on this device (stamped, or re-read from the queue). */
  foldOwn(op: OpInput): void {
    this.fold({ ...op, deviceId: this.deviceId() });
  }

  /**
   * A local edit: stamps each draft, folds it, and (when `capture`) queues it for the server.
   * Returns the stamped ops in order. `check: false` skips the protocol check, for ops that
   * re-state what the library already holds (a re-base): refusing them would refuse the whole
   * operation, while an op the server refuses is quarantined and the rest still syncs.
   */
  commitLocal(
    drafts: readonly OpDraft[],
    options: { capture: boolean; check?: boolean },
  ): OpInput[] {
    const ops: OpInput[] = [];
    for (const draft of drafts) {
      const op = this.stamp(draft, { check: options.check ?? true });
      this.foldOwn(op);
      this.hooks.afterDomainWrite?.(op);
      if (options.capture) enqueue(this.db, op, this.now());
      ops.push(op);
    }
    return ops;
  }

  /**
   * An op from the server, in id order. Applied with capture suppressed (it never enters the
   * queue, so it is never echoed back), and the cursor moves in the same transaction. An op
   * at or below the cursor was applied before and is skipped; this device's own ops coming
   * back fold to nothing new because their registers already hold them.
   */
  applyRemote(op: SyncOp): boolean {
    if (op.id <= this.cursor()) return false;
    this.clock.observe(op.lamportTs);
    this.fold(op);
    this.setCursor(op.id);
    return true;
  }

  cursor(): number {
    return Number(readMeta(this.db, "cursor") ?? "0");
  }

  setCursor(id: number): void {
    writeMeta(this.db, "cursor", String(id));
  }

  /** Forgets the library (registers and rows); the queue and the clock stay. */
  clearLibrary(): void {
    clearRegisters(this.db);
    clearDomain(this.db);
  }

  /** Folds the queued ops again, oldest first (after a rebuild from the server's state). */
  refoldPending(): number {
    const pending = allPending(this.db);
    for (const op of pending) this.foldOwn(op);
    return pending.length;
  }
}
