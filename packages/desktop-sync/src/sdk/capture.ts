import type { SqliteDatabase } from "../store/sqlite.js";
import { badBlobRefSql, blobJsonSql } from "./blob-ref.js";
import type { ResolvedColumn, ResolvedTable } from "./schema.js";

/*
 * Capture by triggers. Every synced table gets AFTER INSERT / UPDATE OF <column> / DELETE
 * triggers that, in the statement of the app's own write (so in its transaction, whatever
 * the app's code looks like):
 *
 *   1. advance the persisted Lamport clock (sync_meta 'lamport', the same row LamportClock
 *      uses) by one per op;
 *   2. queue the op in sync_pending_op with that timestamp and a fresh UUID v4 operation id
 *      (made in SQL from randomblob);
 *   3. fold it into the LWW registers (lww_field, lww_entity). A local op carries the highest
 *      timestamp this device has seen, so it wins every register it writes; the fold is
 *      therefore a plain upsert, which is exactly @chorus/protocol's applyOp for such an op.
 *
 * Only whitelisted columns are read by a trigger: a column not declared never reaches an op.
 * Every trigger fires only while `chorus_capturing()` answers 1, a function each engine
 * connection defines: the engine turns it off while it writes rows from remote ops (no echo)
 * and while it rebuilds. A connection that never defined it cannot write synced tables (the
 * trigger fails with "no such function"): a write that would bypass sync is refused, not lost.
 */

/** Version of the trigger SQL below: part of the installed fingerprint, so a change reinstalls. */
export const TRIGGER_VERSION = 1;

const suppressed = new WeakMap<SqliteDatabase, { depth: number }>();

/** Defines chorus_capturing() on a connection (idempotent per connection). */
export function defineCaptureFunction(db: SqliteDatabase): void {
  if (suppressed.has(db)) return;
  const state = { depth: 0 };
  suppressed.set(db, state);
  db.function("chorus_capturing", { deterministic: false, varargs: false }, () =>
    state.depth === 0 ? 1 : 0,
  );
}

/** Runs `fn` with capture off on `db`: its writes to synced tables queue nothing. */
export function withCaptureOff<T>(db: SqliteDatabase, fn: () => T): T {
  defineCaptureFunction(db);
  const state = suppressed.get(db) as { depth: number };
  state.depth += 1;
  try {
    return fn();
  } finally {
    state.depth -= 1;
  }
}

export function isCapturing(db: SqliteDatabase): boolean {
  return (suppressed.get(db)?.depth ?? 0) === 0;
}

const q = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;
const lit = (text: string) => `'${text.replaceAll("'", "''")}'`;

const LAMPORT = "(SELECT CAST(value AS INTEGER) FROM sync_meta WHERE key = 'lamport')";
const DEVICE = "COALESCE((SELECT value FROM sync_meta WHERE key = 'device_id'), '')";
const NOW_MS = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";
const UUID_V4 = `lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`;
const UUID_GLOB = "[0-9a-f]"
  .repeat(8)
  .concat(
    "-",
    "[0-9a-f]".repeat(4),
    "-",
    "[0-9a-f]".repeat(4),
    "-",
    "[0-9a-f]".repeat(4),
    "-",
    "[0-9a-f]".repeat(12),
  );

const BUMP = "UPDATE sync_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'lamport';";
/** The op just queued (its lamport_ts is the clock's current value: UNIQUE). */
const CURRENT = `FROM sync_pending_op p WHERE p.lamport_ts = ${LAMPORT}`;

function queue(
  entity: string,
  id: string,
  field: string | null,
  op: string,
  value: string,
): string {
  return `INSERT INTO sync_pending_op (operation_id, lamport_ts, entity, entity_id, field, op, value, created_at)
    VALUES (${UUID_V4}, ${LAMPORT}, ${lit(entity)}, ${id}, ${field === null ? "NULL" : lit(field)}, '${op}', ${value}, ${NOW_MS});`;
}

function foldField(entity: string, id: string, field: string, value: string): string {
  return `INSERT INTO lww_field (entity, entity_id, field, lamport_ts, device_id, operation_id, value)
    SELECT ${lit(entity)}, ${id}, ${lit(field)}, p.lamport_ts, ${DEVICE}, p.operation_id, ${value} ${CURRENT}
    ON CONFLICT (entity, entity_id, field) DO UPDATE SET lamport_ts = excluded.lamport_ts,
      device_id = excluded.device_id, operation_id = excluded.operation_id, value = excluded.value;`;
}

function foldWrite(entity: string, id: string): string {
  return `INSERT INTO lww_entity (entity, entity_id, write_ts, write_device, write_op)
    SELECT ${lit(entity)}, ${id}, p.lamport_ts, ${DEVICE}, p.operation_id ${CURRENT}
    ON CONFLICT (entity, entity_id) DO UPDATE SET write_ts = excluded.write_ts,
      write_device = excluded.write_device, write_op = excluded.write_op;`;
}

function foldTombstone(entity: string, id: string): string {
  return `INSERT INTO lww_entity (entity, entity_id, tombstone_ts, tombstone_device, tombstone_op)
    SELECT ${lit(entity)}, ${id}, p.lamport_ts, ${DEVICE}, p.operation_id ${CURRENT}
    ON CONFLICT (entity, entity_id) DO UPDATE SET tombstone_ts = excluded.tombstone_ts,
      tombstone_device = excluded.tombstone_device, tombstone_op = excluded.tombstone_op;`;
}

/** SQL: the value of `column` in a new row, for json_object (a blob column as `{"$blobs":[…]}`). */
function objectValue(column: ResolvedColumn): string {
  const c = `NEW.${q(column.name)}`;
  return column.blob ? blobJsonSql(c) : c;
}

/** SQL: the JSON text of `column`'s new value (an op's value, a register's value). */
function jsonValue(column: ResolvedColumn): string {
  const c = `NEW.${q(column.name)}`;
  return column.blob ? `COALESCE(${blobJsonSql(c)}, 'null')` : `json_quote(${c})`;
}

/** The name every trigger the engine owns starts with (reinstalling drops them all). */
export const TRIGGER_PREFIX = "chorus_capture_";

/** The CREATE TRIGGER statements for one synced table. */
export function triggerSql(table: ResolvedTable): string[] {
  const t = q(table.table);
  const pk = q(table.primaryKey.column);
  const name = (suffix: string) => q(`${TRIGGER_PREFIX}${table.table}_${suffix}`);
  const e = table.entity;
  const id = `NEW.${pk}`;
  const idRule =
    table.primaryKey.kind === "uuid"
      ? `typeof(NEW.${pk}) != 'text' OR NEW.${pk} NOT GLOB '${UUID_GLOB}'`
      : `typeof(NEW.${pk}) != 'text' OR length(NEW.${pk}) NOT BETWEEN 1 AND 128`;
  const idHelp =
    table.primaryKey.kind === "uuid"
      ? "a lower-case UUID (crypto.randomUUID())"
      : "a text of 1 to 128 characters";
  const statements = [
    `CREATE TRIGGER ${name("check_id")} BEFORE INSERT ON ${t} WHEN chorus_capturing() AND (${idRule})
     BEGIN SELECT RAISE(ABORT, ${lit(`chorus: ${table.table}.${table.primaryKey.column} must be ${idHelp}`)}); END`,
    `CREATE TRIGGER ${name("keep_id")} BEFORE UPDATE OF ${pk} ON ${t} WHEN OLD.${pk} IS NOT NEW.${pk}
     BEGIN SELECT RAISE(ABORT, ${lit(`chorus: the primary key of synced table ${table.table} cannot change; delete the row and insert a new one`)}); END`,
    `CREATE TRIGGER ${name("insert")} AFTER INSERT ON ${t} WHEN chorus_capturing()
     BEGIN
       ${BUMP}
       ${queue(e, id, null, "insert", `json_object(${table.columns.map((c) => `${lit(c.name)}, ${objectValue(c)}`).join(", ")})`)}
       ${table.columns.map((c) => foldField(e, id, c.name, jsonValue(c))).join("\n       ")}
       ${foldWrite(e, id)}
     END`,
  ];
  for (const column of table.columns) {
    const c = q(column.name);
    statements.push(
      `CREATE TRIGGER ${name(`set_${column.name}`)} AFTER UPDATE OF ${c} ON ${t}
       WHEN chorus_capturing() AND OLD.${c} IS NOT NEW.${c}
       BEGIN
         ${BUMP}
         ${queue(e, id, column.name, "set", jsonValue(column))}
         ${foldField(e, id, column.name, jsonValue(column))}
         ${foldWrite(e, id)}
       END`,
    );
  }
  for (const column of table.columns.filter((c) => c.blob)) {
    const c = `NEW.${q(column.name)}`;
    const message = lit(
      `chorus: ${table.table}.${column.name} holds a blob reference: a lower-case hex SHA-256 or NULL`,
    );
    statements.push(
      `CREATE TRIGGER ${name(`check_${column.name}`)} BEFORE INSERT ON ${t} WHEN chorus_capturing() AND (${badBlobRefSql(c)})
       BEGIN SELECT RAISE(ABORT, ${message}); END`,
      `CREATE TRIGGER ${name(`check_set_${column.name}`)} BEFORE UPDATE OF ${q(column.name)} ON ${t} WHEN chorus_capturing() AND (${badBlobRefSql(c)})
       BEGIN SELECT RAISE(ABORT, ${message}); END`,
    );
  }
  if (table.syncDeletes) {
    const oldId = `OLD.${pk}`;
    statements.push(
      `CREATE TRIGGER ${name("delete")} AFTER DELETE ON ${t} WHEN chorus_capturing()
       BEGIN
         ${BUMP}
         ${queue(e, oldId, null, "delete", "NULL")}
         ${foldTombstone(e, oldId)}
       END`,
    );
  }
  return statements;
}

/** Drops every capture trigger of the file (before reinstalling for a new declaration). */
export function dropTriggers(db: SqliteDatabase): void {
  const names = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name GLOB ?")
    .pluck()
    .all(`${TRIGGER_PREFIX}*`) as string[];
  for (const trigger of names) db.exec(`DROP TRIGGER ${q(trigger)}`);
}
