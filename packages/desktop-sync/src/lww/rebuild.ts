import {
  entityKey,
  fieldWrites,
  isNewer,
  type JsonValue,
  type MaterializedEntity,
  type SyncOp,
  viewState,
} from "@chorus/protocol";
import type Database from "better-sqlite3";
import type { Materializer } from "../sdk/materialize.js";
import type { SqliteDatabase } from "../store/sqlite.js";
import { forEachRegisterPage } from "./registers.js";

/*
 * The registers of a full rebuild, settled in bulk (docs/adr/0028-batched-rebuild-fold.md).
 *
 * Folding every op of an account in id order into empty registers ends in a pure function of
 * the op set (@chorus/protocol's rule takes a maximum per register): per field the newest
 * write; per entity the newest delete (tombstone) and the newest write of any field or of
 * none (lastWrite, which is therefore the newest of the entity's field winners and of its
 * writes that set no field); "newest" by (lamportTs, lower-cased deviceId, lower-cased
 * operationId), the first copy kept on a tie. So a rebuild does not load and save an entity
 * per op: while the pages arrive, each page is settled in memory (one winner per register of
 * the page) and its winners are appended to TEMP staging tables, a hundred rows per INSERT;
 * at the end, SQL inserts the staged rows sorted by register, winner first (SQLite's external
 * sorter), and a register's later rows are skipped on its key, so each register is written
 * once (ADR 0041). Device and operation ids are UUIDs (the protocol's Uuid), ASCII, so
 * SQLite's BINARY order of their lower-cased texts is the rule's code-unit order.
 *
 * The staging tables belong to the library's own connection (on disk in SQLite's temporary
 * storage, invisible to other connections, gone with the connection), so the library stays as
 * it was until the rebuild's one transaction installs the registers and writes the app's rows
 * from them (`install`, `materialize`): a failure before that changes nothing, and memory
 * stays bounded by a page (the sorter spills to temporary files).
 */

const FIELDS = "chorus_resync_field";
const VERSIONS = "chorus_resync_version";
/** Entities whose rows are written per applyMany while materializing. */
const MATERIALIZE_PAGE = 1_000;

interface Settled {
  entity: string;
  entityId: string;
  tombstone: SyncOp | null;
  /** The newest write of the page that set no field (the others count through `fields`). */
  fieldless: SyncOp | null;
  fields: Map<string, { op: SyncOp; value: JsonValue }>;
}

export interface RebuildRegistersOptions {
  /** True for an entity whose deletes are not folded (a table whose deletes do not sync). */
  ignoresDeletes(entity: string): boolean;
}

/** The order of a register's staged rows, the winner first (the first copy on a tie). */
const RANK = "ts DESC, dkey DESC, okey DESC, seq";

/** Staged rows per INSERT: a page's rows go in a few statements, not one call per row. */
const STAGE_ROWS = 100;

/**
 * Appends rows to one staging table, STAGE_ROWS per multi-row INSERT (the statement per row
 * count is prepared once): the per-call cost of a statement was most of staging (ADR 0041).
 */
class StagingInserts {
  private readonly statements = new Map<number, Database.Statement>();
  private readonly values: unknown[] = [];
  private readonly width: number;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly table: string,
    private readonly columns: readonly string[],
  ) {
    this.width = columns.length;
  }

  /** Queues one row (its values in `columns` order); full chunks are written at once. */
  push(...row: unknown[]): void {
    for (const value of row) this.values.push(value);
    if (this.values.length === STAGE_ROWS * this.width) this.flush();
  }

  /** Writes the queued rows. */
  flush(): void {
    const rows = this.values.length / this.width;
    if (rows === 0) return;
    this.statement(rows).run(this.values);
    this.values.length = 0;
  }

  /** Forgets queued rows that were not written (a page that failed). */
  clear(): void {
    this.values.length = 0;
  }

  private statement(rows: number): Database.Statement {
    let statement = this.statements.get(rows);
    if (!statement) {
      const row = `(${this.columns.map(() => "?").join(", ")})`;
      statement = this.db.prepare(
        `INSERT INTO temp.${this.table} (${this.columns.join(", ")}) VALUES ${Array(rows).fill(row).join(", ")}`,
      );
      this.statements.set(rows, statement);
    }
    return statement;
  }
}

export class RebuildRegisters {
  private readonly stageField: StagingInserts;
  private readonly stageVersion: StagingInserts;
  private readonly addPage: (ops: readonly SyncOp[]) => void;

  constructor(
    readonly db: SqliteDatabase,
    private readonly options: RebuildRegistersOptions,
  ) {
    // Heaps in arrival order (no index): appending costs the same at any size.
    db.exec(`
      CREATE TEMP TABLE IF NOT EXISTS ${FIELDS} (
        entity TEXT NOT NULL, entity_id TEXT NOT NULL, field TEXT NOT NULL,
        ts INTEGER NOT NULL, dkey TEXT NOT NULL, okey TEXT NOT NULL, seq INTEGER NOT NULL,
        device_id TEXT NOT NULL, operation_id TEXT NOT NULL, value TEXT NOT NULL
      );
      CREATE TEMP TABLE IF NOT EXISTS ${VERSIONS} (
        entity TEXT NOT NULL, entity_id TEXT NOT NULL, kind TEXT NOT NULL,
        ts INTEGER NOT NULL, dkey TEXT NOT NULL, okey TEXT NOT NULL, seq INTEGER NOT NULL,
        device_id TEXT NOT NULL, operation_id TEXT NOT NULL
      );
    `);
    this.stageField = new StagingInserts(db, FIELDS, [
      "entity",
      "entity_id",
      "field",
      "ts",
      "dkey",
      "okey",
      "seq",
      "device_id",
      "operation_id",
      "value",
    ]);
    this.stageVersion = new StagingInserts(db, VERSIONS, [
      "entity",
      "entity_id",
      "kind",
      "ts",
      "dkey",
      "okey",
      "seq",
      "device_id",
      "operation_id",
    ]);
    this.addPage = db.transaction((ops: readonly SyncOp[]) => {
      try {
        this.stage(this.settle(ops));
        this.stageField.flush();
        this.stageVersion.flush();
      } finally {
        this.stageField.clear();
        this.stageVersion.clear();
      }
    });
    this.reset();
  }

  /** Forgets every register staged so far (a rebuild starting again from 0). */
  reset(): void {
    this.db.exec(`DELETE FROM temp.${FIELDS}; DELETE FROM temp.${VERSIONS};`);
  }

  /** Folds one page of ops (opened, in id order) into the rebuild's registers. */
  add(ops: readonly SyncOp[]): void {
    if (ops.length > 0) this.addPage(ops);
  }

  /** One winner per register of the page, as folding its ops in order would leave them. */
  private settle(ops: readonly SyncOp[]): Map<string, Settled> {
    const page = new Map<string, Settled>();
    for (const op of ops) {
      if (op.op === "noop") continue;
      if (op.op === "delete" && this.options.ignoresDeletes(op.entity)) continue;
      const key = entityKey(op.entity, op.entityId);
      let settled = page.get(key);
      if (!settled) {
        settled = {
          entity: op.entity,
          entityId: op.entityId,
          tombstone: null,
          fieldless: null,
          fields: new Map(),
        };
        page.set(key, settled);
      }
      if (op.op === "delete") {
        if (isNewer(op, settled.tombstone)) settled.tombstone = op;
        continue;
      }
      const writes = fieldWrites(op);
      if (writes.length === 0 && isNewer(op, settled.fieldless)) settled.fieldless = op;
      for (const [field, value] of writes) {
        const current = settled.fields.get(field);
        if (current === undefined || isNewer(op, current.op))
          settled.fields.set(field, { op, value });
      }
    }
    return page;
  }

  private stage(page: Map<string, Settled>): void {
    for (const settled of page.values()) {
      const { entity, entityId } = settled;
      // A touched entity has a tombstone, a write that set no field, or field writes: each
      // gives it its register row (install).
      for (const [kind, op] of [
        ["d", settled.tombstone],
        ["w", settled.fieldless],
      ] as const) {
        if (!op) continue;
        this.stageVersion.push(
          entity,
          entityId,
          kind,
          op.lamportTs,
          op.deviceId.toLowerCase(),
          op.operationId.toLowerCase(),
          op.id,
          op.deviceId,
          op.operationId,
        );
      }
      for (const [field, { op, value }] of settled.fields) {
        this.stageField.push(
          entity,
          entityId,
          field,
          op.lamportTs,
          op.deviceId.toLowerCase(),
          op.operationId.toLowerCase(),
          op.id,
          op.deviceId,
          op.operationId,
          JSON.stringify(value),
        );
      }
    }
  }

  /**
   * Writes each register's winner into the library's registers (lww_field, then lww_entity),
   * which the caller has just cleared, inside its transaction. The staged rows go in sorted
   * by register, the winner first (RANK), so a register's later rows meet its winner's key and
   * are skipped: one sort, no window over ephemeral partitions (ADR 0041). The result does not
   * rest on that order, which SQLite does not promise to keep in an INSERT ... SELECT: a row
   * replaces the register's row only when its (Lamport, device, operation) is newer, the rule's
   * own comparison, so any order installs the same winners (an exact tie is the same op).
   */
  install(): void {
    this.db.exec(`
      INSERT INTO lww_field (entity, entity_id, field, lamport_ts, device_id, operation_id, value)
        SELECT entity, entity_id, field, ts, device_id, operation_id, value FROM temp.${FIELDS}
         ORDER BY entity, entity_id, field, ${RANK}
        ON CONFLICT (entity, entity_id, field) DO UPDATE SET
          lamport_ts = excluded.lamport_ts, device_id = excluded.device_id,
          operation_id = excluded.operation_id, value = excluded.value
          WHERE (excluded.lamport_ts, lower(excluded.device_id), lower(excluded.operation_id))
              > (lww_field.lamport_ts, lower(lww_field.device_id), lower(lww_field.operation_id));
      INSERT INTO lww_entity (entity, entity_id, tombstone_ts, tombstone_device, tombstone_op)
        SELECT entity, entity_id, ts, device_id, operation_id FROM temp.${VERSIONS}
         WHERE kind = 'd'
         ORDER BY entity, entity_id, ${RANK}
        ON CONFLICT (entity, entity_id) DO UPDATE SET
          tombstone_ts = excluded.tombstone_ts, tombstone_device = excluded.tombstone_device,
          tombstone_op = excluded.tombstone_op
          WHERE (excluded.tombstone_ts, lower(excluded.tombstone_device),
                 lower(excluded.tombstone_op))
              > (lww_entity.tombstone_ts, lower(lww_entity.tombstone_device),
                 lower(lww_entity.tombstone_op));
      INSERT INTO lww_entity (entity, entity_id, write_ts, write_device, write_op)
        SELECT entity, entity_id, ts, device_id, operation_id FROM (
          SELECT entity, entity_id, ts, dkey, okey, seq, device_id, operation_id
            FROM temp.${VERSIONS} WHERE kind = 'w'
          UNION ALL
          SELECT entity, entity_id, lamport_ts, lower(device_id), lower(operation_id), 0,
                 device_id, operation_id
            FROM lww_field)
         ORDER BY entity, entity_id, ${RANK}
        ON CONFLICT (entity, entity_id) DO UPDATE SET
          write_ts = excluded.write_ts, write_device = excluded.write_device,
          write_op = excluded.write_op
          WHERE lww_entity.write_ts IS NULL
             OR (excluded.write_ts, lower(excluded.write_device), lower(excluded.write_op))
              > (lww_entity.write_ts, lower(lww_entity.write_device), lower(lww_entity.write_op));
    `);
  }

  /**
   * Writes the app's rows from the library's registers (installed, with the pending local ops
   * folded on top): table by table, parents first, a page of entities at a time through
   * applyMany, which parks a child whose parent has no row and writes it when the parent
   * lands. The order within a table does not change the rows (a row exists exactly when its
   * entity is visible, its parents' rows exist and it meets its table's constraints; the SDK
   * refuses UNIQUE columns). Calls `onPage` with the entities written so far.
   */
  materialize(materializer: Materializer, onPage: (written: number) => void = () => {}): void {
    const tables = [...materializer.app.tables].sort((a, b) => a.depth - b.depth);
    let written = 0;
    for (const table of tables) {
      forEachRegisterPage(this.db, { entity: table.entity, pageSize: MATERIALIZE_PAGE }, (page) => {
        const views: MaterializedEntity[] = [];
        for (const state of page) for (const view of viewState(state).values()) views.push(view);
        materializer.applyMany(views);
        written += page.length;
        onPage(written);
      });
    }
  }

  /** Drops the TEMP tables (the rebuild is over, committed or not). */
  drop(): void {
    this.db.exec(`DROP TABLE IF EXISTS temp.${FIELDS}; DROP TABLE IF EXISTS temp.${VERSIONS};`);
  }
}
