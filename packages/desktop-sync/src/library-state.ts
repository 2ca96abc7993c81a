import { randomUUID } from "node:crypto";
import {
  type JsonValue,
  type LwwOp,
  type MaterializedEntity,
  OpInput,
  type OpKind,
  type SyncOp,
} from "@chorus/protocol";
import type { LamportClock } from "./clock.js";
import { type OpCipher, openRemote } from "./engine/encryption.js";
import { EngineError } from "./errors.js";
import { recordContests } from "./lww/overwritten.js";
import { clearRegisters, type FieldContest, foldOp } from "./lww/registers.js";
import { allPending, allQuarantined, enqueue } from "./queue.js";
import { materializerOf } from "./sdk/install.js";
import { deleteMeta, readMeta, writeMeta } from "./store/meta.js";
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
 * One profile's library state: the LWW registers, the app's rows derived from them (written
 * by the materializer of the app installed on the connection, src/sdk/), the
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

  /** Entities folded inside `batch`, written once at its end (parents first). */
  private touched: Map<string, MaterializedEntity> | null = null;

  /**
   * Folds an op into the registers and rewrites the app's row it touched (capture off). Inside
   * `batch` the row is written once, at the end of the batch, in the FK-safe order. A delete of
   * a table whose deletes do not sync is not folded.
   */
  fold(op: LwwOp, contests?: FieldContest[]): void {
    const materializer = materializerOf(this.db);
    if (op.op === "delete" && materializer?.ignoresDeletes(op.entity)) return;
    const view = foldOp(this.db, op, contests);
    if (!view || !materializer) return;
    // The last fold of an entity returns its final view: that is the one written.
    if (this.touched) this.touched.set(`${op.entity}/${op.entityId}`, view);
    else materializer.apply(view);
  }

  /**
   * Runs `fn` (which folds ops) and then writes every touched row in one pass: deletes
   * children first, upserts parents first. Call inside the caller's transaction.
   */
  batch<T>(fn: () => T): T {
    if (this.touched) return fn();
    this.touched = new Map();
    try {
      const result = fn();
      const views = [...this.touched.values()];
      this.touched = null;
      materializerOf(this.db)?.applyMany(views);
      return result;
    } finally {
      this.touched = null;
    }
  }

  /**
   * Runs `fn` (which folds ops) and returns the final view of every entity it touched, in the
   * order they were first touched, WITHOUT writing their rows: the caller writes them (a full
   * rebuild writes them with the rest of the library, src/lww/rebuild.ts). Call inside the
   * caller's transaction, outside `batch`.
   */
  collectViews(fn: () => void): MaterializedEntity[] {
    if (this.touched) throw new Error("collectViews cannot run inside batch");
    this.touched = new Map();
    try {
      fn();
      return [...this.touched.values()];
    } finally {
      this.touched = null;
    }
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
   * back fold to nothing new because their registers already hold them. A field this device
   * wrote and the op disagrees on is recorded as an overwritten value (src/lww/overwritten.ts).
   *
   * With a `cipher` (an encrypted account) the value is opened first; a value that does not
   * open is recorded in sync_unreadable_op and never folded, and the cursor moves past it so
   * the rest flows (KeyNeededError, a key this device lacks, passes through and rolls the
   * caller's transaction back). Returns the op as folded, or null when nothing was folded.
   */
  applyRemote(op: SyncOp, cipher?: OpCipher): SyncOp | null {
    if (op.id <= this.cursor()) return null;
    this.clock.observe(op.lamportTs);
    const opened = cipher ? openRemote(cipher, op) : op;
    if (opened) {
      const contests: FieldContest[] = [];
      this.fold(opened, contests);
      recordContests(this.overwrittenDb, opened, contests, this.deviceId(), this.now());
    }
    this.setCursor(op.id);
    return opened;
  }

  /**
   * Where overwritten values are recorded (src/lww/overwritten.ts): this database, or the
   * profile file when this state lives in memory (server-connected mode).
   */
  get overwrittenDb(): SqliteDatabase {
    return this.recordTo ?? this.db;
  }

  set overwrittenDb(db: SqliteDatabase) {
    this.recordTo = db;
  }

  private recordTo: SqliteDatabase | null = null;

  cursor(): number {
    return Number(readMeta(this.db, "cursor") ?? "0");
  }

  setCursor(id: number): void {
    writeMeta(this.db, "cursor", String(id));
  }

  /**
   * The cursor, once stored for good: remote ops are applied without waiting for the disk
   * (withoutWaitingForDisk), so before the cursor is ACKed it is written again in a commit that
   * does wait, which stores every commit before it too (the WAL is written in order). Called
   * at most once per ACK. In memory (server-connected mode) there is nothing to store.
   */
  durableCursor(): number {
    if (this.db.memory) return this.cursor();
    return this.db
      .transaction(() => {
        const cursor = this.cursor();
        // Deleted and written again: SQLite skips writing a row set to the value it holds,
        // and a commit that writes nothing waits for nothing.
        deleteMeta(this.db, "cursor");
        this.setCursor(cursor);
        return cursor;
      })
      .immediate();
  }

  /** Forgets the library (registers, rows and parked rows); the queue and the clock stay. */
  clearLibrary(): void {
    clearRegisters(this.db);
    materializerOf(this.db)?.clear();
  }

  /**
   * Folds this device's own unsynced ops again after a rebuild from the server's state: the
   * queued ones, oldest first, and the quarantined ones (refused for good, they stay folded
   * here: the edit stays on this computer, ADR 0006). Returns how many queued ops it folded.
   */
  refoldPending(): number {
    const pending = allPending(this.db);
    for (const op of allQuarantined(this.db)) this.foldOwn(op);
    for (const op of pending) this.foldOwn(op);
    return pending.length;
  }
}
