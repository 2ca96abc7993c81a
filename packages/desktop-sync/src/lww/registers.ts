import {
  applyOp,
  createLwwState,
  entityKey,
  fieldWrites,
  type JsonValue,
  type LwwOp,
  type LwwState,
  type MaterializedEntity,
  viewState,
} from "@chorus/protocol";
import type Database from "better-sqlite3";
import type { SqliteDatabase } from "../store/sqlite.js";

/*
 * The conflict rule's registers (docs/design.md#conflict-rule) kept in SQLite (lww_entity, lww_field). Folding an op loads the
 * one entity it touches into @chorus/protocol's in-memory LwwState, applies the op with the
 * shared rule (applyOp), writes the registers back and returns the entity's view (viewState).
 * The device therefore cannot disagree with the server's compaction about who wins.
 */

type EntityRegisters = LwwState extends Map<string, infer R> ? R : never;

interface EntityRow {
  tombstone_ts: number | null;
  tombstone_device: string | null;
  tombstone_op: string | null;
  write_ts: number | null;
  write_device: string | null;
  write_op: string | null;
}

interface FieldRow {
  field: string;
  lamport_ts: number;
  device_id: string;
  operation_id: string;
  value: string;
}

type Statement = Database.Statement<unknown[]>;

interface Statements {
  entity: Statement;
  fields: Statement;
  upsertEntity: Statement;
  upsertField: Statement;
}

const cache = new WeakMap<SqliteDatabase, Statements>();

function statements(db: SqliteDatabase): Statements {
  let prepared = cache.get(db);
  if (!prepared) {
    prepared = {
      entity: db.prepare("SELECT * FROM lww_entity WHERE entity = ? AND entity_id = ?"),
      fields: db.prepare(
        "SELECT field, lamport_ts, device_id, operation_id, value FROM lww_field WHERE entity = ? AND entity_id = ?",
      ),
      upsertEntity: db.prepare(
        `INSERT INTO lww_entity (entity, entity_id, tombstone_ts, tombstone_device, tombstone_op,
                                 write_ts, write_device, write_op)
         VALUES (@entity, @entityId, @tombstoneTs, @tombstoneDevice, @tombstoneOp,
                 @writeTs, @writeDevice, @writeOp)
         ON CONFLICT (entity, entity_id) DO UPDATE SET
           tombstone_ts = excluded.tombstone_ts, tombstone_device = excluded.tombstone_device,
           tombstone_op = excluded.tombstone_op, write_ts = excluded.write_ts,
           write_device = excluded.write_device, write_op = excluded.write_op`,
      ),
      upsertField: db.prepare(
        `INSERT INTO lww_field (entity, entity_id, field, lamport_ts, device_id, operation_id, value)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (entity, entity_id, field) DO UPDATE SET
           lamport_ts = excluded.lamport_ts, device_id = excluded.device_id,
           operation_id = excluded.operation_id, value = excluded.value`,
      ),
    };
    cache.set(db, prepared);
  }
  return prepared;
}

/** A stand-in op carrying a stored version: all the rule compares is (lamportTs, deviceId, operationId). */
function storedOp(
  entity: string,
  entityId: string,
  kind: LwwOp["op"],
  field: string | null,
  version: { ts: number; device: string; op: string },
  value: JsonValue | null,
): LwwOp {
  return {
    operationId: version.op,
    lamportTs: version.ts,
    deviceId: version.device,
    entity,
    entityId,
    field,
    op: kind,
    value,
  };
}

function loadEntity(db: SqliteDatabase, entity: string, entityId: string): LwwState {
  const state = createLwwState();
  const s = statements(db);
  const row = s.entity.get(entity, entityId) as EntityRow | undefined;
  const fieldRows = s.fields.all(entity, entityId) as FieldRow[];
  if (!row && fieldRows.length === 0) return state;
  const registers: EntityRegisters = {
    entity,
    entityId,
    tombstone:
      row?.tombstone_ts != null && row.tombstone_device && row.tombstone_op
        ? storedOp(
            entity,
            entityId,
            "delete",
            null,
            {
              ts: row.tombstone_ts,
              device: row.tombstone_device,
              op: row.tombstone_op,
            },
            null,
          )
        : null,
    lastWrite:
      row?.write_ts != null && row.write_device && row.write_op
        ? storedOp(
            entity,
            entityId,
            "set",
            null,
            {
              ts: row.write_ts,
              device: row.write_device,
              op: row.write_op,
            },
            null,
          )
        : null,
    fields: new Map(),
  };
  for (const f of fieldRows) {
    const value = JSON.parse(f.value) as JsonValue;
    registers.fields.set(f.field, {
      op: storedOp(
        entity,
        entityId,
        "set",
        f.field,
        {
          ts: f.lamport_ts,
          device: f.device_id,
          op: f.operation_id,
        },
        value,
      ),
      value,
    });
  }
  state.set(entityKey(entity, entityId), registers);
  return state;
}

function saveEntity(db: SqliteDatabase, registers: EntityRegisters): void {
  const s = statements(db);
  const { tombstone, lastWrite } = registers;
  s.upsertEntity.run({
    entity: registers.entity,
    entityId: registers.entityId,
    tombstoneTs: tombstone?.lamportTs ?? null,
    tombstoneDevice: tombstone?.deviceId ?? null,
    tombstoneOp: tombstone?.operationId ?? null,
    writeTs: lastWrite?.lamportTs ?? null,
    writeDevice: lastWrite?.deviceId ?? null,
    writeOp: lastWrite?.operationId ?? null,
  });
  for (const [field, register] of registers.fields) {
    s.upsertField.run(
      registers.entity,
      registers.entityId,
      field,
      register.op.lamportTs,
      register.op.deviceId,
      register.op.operationId,
      JSON.stringify(register.value),
    );
  }
}

/** One side of a field contest: a value and the version that wrote it. */
export interface ContestSide {
  value: JsonValue;
  deviceId: string;
  lamportTs: number;
  operationId: string;
}

/**
 * A field two writes disagreed on, as one fold settled it: the incoming op replaced the stored
 * value, or lost to it. Only values that differ make a contest (two writes of the same value
 * disagree on nothing a person would notice).
 */
export interface FieldContest {
  field: string;
  /** Whether the incoming op is the winner. */
  incomingWon: boolean;
  loser: ContestSide;
  winner: ContestSide;
}

function side(op: LwwOp, value: JsonValue): ContestSide {
  return { value, deviceId: op.deviceId, lamportTs: op.lamportTs, operationId: op.operationId };
}

/**
 * Folds one op into the stored registers of its entity and returns the entity as it now
 * looks. Call inside the caller's transaction. A `noop` changes nothing and returns null.
 * With `contests`, every field whose stored value and incoming value differ is pushed there
 * with who won (src/lww/overwritten.ts records the ones this device took part in).
 */
export function foldOp(
  db: SqliteDatabase,
  op: LwwOp,
  contests?: FieldContest[],
): MaterializedEntity | null {
  if (op.op === "noop") return null;
  const state = loadEntity(db, op.entity, op.entityId);
  const key = entityKey(op.entity, op.entityId);
  const before = contests ? new Map(state.get(key)?.fields ?? []) : null;
  applyOp(state, op);
  const registers = state.get(key);
  if (!registers) return null;
  if (contests && before) {
    for (const [field, value] of op.op === "delete" ? [] : fieldWrites(op)) {
      const stored = before.get(field);
      const now = registers.fields.get(field);
      if (!stored || !now || stored.op.operationId === op.operationId) continue;
      if (JSON.stringify(stored.value) === JSON.stringify(value)) continue;
      const incoming = side(op, value);
      const kept = side(stored.op, stored.value);
      const incomingWon = now.op.operationId === op.operationId;
      contests.push({
        field,
        incomingWon,
        loser: incomingWon ? kept : incoming,
        winner: incomingWon ? incoming : kept,
      });
    }
  }
  saveEntity(db, registers);
  return viewState(state).get(key) ?? null;
}

/** The current view of one entity, or null when no op ever touched it. */
export function viewEntity(
  db: SqliteDatabase,
  entity: string,
  entityId: string,
): MaterializedEntity | null {
  const state = loadEntity(db, entity, entityId);
  return viewState(state).get(entityKey(entity, entityId)) ?? null;
}

/** Every entity that is visible now (not deleted), for snapshots. */
export function visibleEntities(db: SqliteDatabase): MaterializedEntity[] {
  const keys = db
    .prepare("SELECT entity, entity_id FROM lww_entity ORDER BY entity, entity_id")
    .all() as {
    entity: string;
    entity_id: string;
  }[];
  const visible: MaterializedEntity[] = [];
  for (const { entity, entity_id } of keys) {
    const view = viewEntity(db, entity, entity_id);
    if (view && !view.deleted) visible.push(view);
  }
  return visible;
}

/** Forgets every register (resync and re-binding rebuild them from ops). */
export function clearRegisters(db: SqliteDatabase): void {
  db.exec("DELETE FROM lww_field; DELETE FROM lww_entity;");
}

/** Renames this device's versions after the server assigned it another device id (first bind). */
export function renameDevice(db: SqliteDatabase, from: string, to: string): void {
  db.prepare("UPDATE lww_field SET device_id = ? WHERE device_id = ?").run(to, from);
  db.prepare("UPDATE lww_entity SET tombstone_device = ? WHERE tombstone_device = ?").run(to, from);
  db.prepare("UPDATE lww_entity SET write_device = ? WHERE write_device = ?").run(to, from);
}

/** Renames the versions of the still-queued ops to `to` (they will be pushed under it). */
export function renamePendingVersions(db: SqliteDatabase, to: string): void {
  const pending = "(SELECT operation_id FROM sync_pending_op)";
  db.prepare(`UPDATE lww_field SET device_id = ? WHERE operation_id IN ${pending}`).run(to);
  db.prepare(`UPDATE lww_entity SET tombstone_device = ? WHERE tombstone_op IN ${pending}`).run(to);
  db.prepare(`UPDATE lww_entity SET write_device = ? WHERE write_op IN ${pending}`).run(to);
}

/**
 * Every stored register, as the conflict rule's in-memory state (the convergence audit reads
 * the whole synced state from it). Call inside a read transaction with whatever else must be
 * read at the same moment (the cursor, the queue).
 */
export function loadAllRegisters(db: SqliteDatabase): LwwState {
  const state = createLwwState();
  const registersOf = (entity: string, entityId: string): EntityRegisters => {
    const key = entityKey(entity, entityId);
    let registers = state.get(key);
    if (!registers) {
      registers = { entity, entityId, tombstone: null, lastWrite: null, fields: new Map() };
      state.set(key, registers);
    }
    return registers;
  };
  const entities = db.prepare("SELECT * FROM lww_entity").all() as (EntityRow & {
    entity: string;
    entity_id: string;
  })[];
  for (const row of entities) {
    const registers = registersOf(row.entity, row.entity_id);
    if (row.tombstone_ts != null && row.tombstone_device && row.tombstone_op) {
      registers.tombstone = storedOp(
        row.entity,
        row.entity_id,
        "delete",
        null,
        { ts: row.tombstone_ts, device: row.tombstone_device, op: row.tombstone_op },
        null,
      );
    }
    if (row.write_ts != null && row.write_device && row.write_op) {
      registers.lastWrite = storedOp(
        row.entity,
        row.entity_id,
        "set",
        null,
        { ts: row.write_ts, device: row.write_device, op: row.write_op },
        null,
      );
    }
  }
  const fields = db
    .prepare(
      "SELECT entity, entity_id, field, lamport_ts, device_id, operation_id, value FROM lww_field",
    )
    .iterate() as IterableIterator<FieldRow & { entity: string; entity_id: string }>;
  for (const f of fields) {
    const value = JSON.parse(f.value) as JsonValue;
    registersOf(f.entity, f.entity_id).fields.set(f.field, {
      op: storedOp(
        f.entity,
        f.entity_id,
        "set",
        f.field,
        { ts: f.lamport_ts, device: f.device_id, op: f.operation_id },
        value,
      ),
      value,
    });
  }
  return state;
}

type StoredEntityRow = EntityRow & { entity: string; entity_id: string };
type StoredFieldRow = FieldRow & { entity: string; entity_id: string };

/** One stored entity's registers as the conflict rule's state (one entry). */
function stateOf(row: StoredEntityRow, fieldRows: readonly StoredFieldRow[]): LwwState {
  const { entity, entity_id: entityId } = row;
  const fields: EntityRegisters["fields"] = new Map();
  for (const f of fieldRows) {
    const value = JSON.parse(f.value) as JsonValue;
    const version = { ts: f.lamport_ts, device: f.device_id, op: f.operation_id };
    fields.set(f.field, { op: storedOp(entity, entityId, "set", f.field, version, value), value });
  }
  const state = createLwwState();
  state.set(entityKey(entity, entityId), {
    entity,
    entityId,
    tombstone:
      row.tombstone_ts != null && row.tombstone_device && row.tombstone_op
        ? storedOp(
            entity,
            entityId,
            "delete",
            null,
            { ts: row.tombstone_ts, device: row.tombstone_device, op: row.tombstone_op },
            null,
          )
        : null,
    lastWrite:
      row.write_ts != null && row.write_device && row.write_op
        ? storedOp(
            entity,
            entityId,
            "set",
            null,
            { ts: row.write_ts, device: row.write_device, op: row.write_op },
            null,
          )
        : null,
    fields,
  });
  return state;
}

/**
 * Reads the stored registers entity by entity in key order (SQLite's BINARY order of
 * (entity, entity_id)), `pageSize` entities at a time, each as a one-entity LwwState; only
 * one entity type when `entity` is given. Memory stays bounded by a page whatever the
 * library's size. `visit` gets each page; call inside a read (or the caller's) transaction
 * when the pages must describe one moment.
 */
export function forEachRegisterPage(
  db: SqliteDatabase,
  options: { entity?: string; pageSize: number },
  visit: (page: LwwState[]) => void,
): void {
  const only = options.entity !== undefined;
  const entities = db.prepare<unknown[], StoredEntityRow>(
    `SELECT * FROM lww_entity
      WHERE ${only ? "entity = ? AND entity_id > ?" : "(entity, entity_id) > (?, ?)"}
      ORDER BY entity, entity_id LIMIT ?`,
  );
  const fields = db.prepare<unknown[], StoredFieldRow>(
    `SELECT entity, entity_id, field, lamport_ts, device_id, operation_id, value FROM lww_field
      WHERE (entity, entity_id) >= (?, ?) AND (entity, entity_id) <= (?, ?)
      ORDER BY entity, entity_id, field`,
  );
  let after: [string, string] = [options.entity ?? "", ""];
  for (;;) {
    const rows = entities.all(...(only ? [options.entity, after[1]] : after), options.pageSize);
    const first = rows[0];
    const last = rows.at(-1);
    if (!first || !last) return;
    const byEntity = new Map<string, StoredFieldRow[]>();
    for (const f of fields.all(first.entity, first.entity_id, last.entity, last.entity_id)) {
      const key = entityKey(f.entity, f.entity_id);
      const list = byEntity.get(key);
      if (list) list.push(f);
      else byEntity.set(key, [f]);
    }
    visit(
      rows.map((row) => stateOf(row, byEntity.get(entityKey(row.entity, row.entity_id)) ?? [])),
    );
    after = [last.entity, last.entity_id];
  }
}
