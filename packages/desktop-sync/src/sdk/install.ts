import { createHash, randomUUID } from "node:crypto";
import type { JsonValue, OpInput } from "@chorus/protocol";
import { createLamportClock } from "../clock.js";
import { EngineError } from "../errors.js";
import { foldOp } from "../lww/registers.js";
import { enqueue } from "../queue.js";
import { readMeta } from "../store/meta.js";
import type { SqliteDatabase } from "../store/sqlite.js";
import { blobValue, isBlobRef } from "./blob-ref.js";
import { defineCaptureFunction, dropTriggers, TRIGGER_VERSION, triggerSql } from "./capture.js";
import { Materializer } from "./materialize.js";
import { type ResolvedApp, type ResolvedColumn, resolveApp, type SyncApp } from "./schema.js";

/*
 * Binding an app to a profile file, at every engine start, in one IMMEDIATE transaction:
 *
 *   1. run the app's own migrations not yet applied (sdk_app.migrations counts them);
 *   2. check the declaration against the tables (resolveApp; a bad one is refused, nothing
 *      changes);
 *   3. when the declaration (or the trigger SQL of this build) changed since the last start:
 *      drop every capture trigger and install the new ones, then take the BASELINE: each row
 *      of a synced table with no register yet (rows that predate sync, a newly declared
 *      table) is queued as one insert op, and each newly declared column of a row that has
 *      registers as one set op. This is the initial snapshot: the first bind uploads the
 *      queue, and the account's ops merge in by LWW.
 *
 * A second engine on the same file waits on the IMMEDIATE lock and then finds the
 * fingerprint current: nothing is installed twice.
 */

const materializers = new WeakMap<SqliteDatabase, Materializer>();

/** The materializer of the app bound to this connection, if any. */
export function materializerOf(db: SqliteDatabase): Materializer | undefined {
  return materializers.get(db);
}

export interface InstallResult {
  readonly app: ResolvedApp;
  readonly materializer: Materializer;
  /** Whether triggers were (re)installed by this call. */
  readonly reinstalled: boolean;
  /** Ops queued by the baseline snapshot. */
  readonly baselineOps: number;
}

export function fingerprint(app: SyncApp): string {
  return createHash("sha256")
    .update(JSON.stringify({ trigger: TRIGGER_VERSION, tables: app.tables }))
    .digest("hex");
}

export function installApp(
  db: SqliteDatabase,
  app: SyncApp,
  options: { baseline?: boolean; now?: () => number } = {},
): InstallResult {
  defineCaptureFunction(db);
  const now = options.now ?? Date.now;
  const result = db
    .transaction(() => {
      const installed = db.prepare("SELECT * FROM sdk_app").get() as
        | { app: string; fingerprint: string; migrations: number }
        | undefined;
      if (installed && installed.app !== app.name) {
        throw new EngineError(
          "invalid_app_schema",
          `this profile holds the data of app "${installed.app}", not "${app.name}"; open it with that app, or use another profile`,
          { installed: installed.app, requested: app.name },
        );
      }
      const ran = installed?.migrations ?? 0;
      if (ran > app.migrations.length) {
        throw new EngineError(
          "schema_too_new",
          `this profile ran ${ran} schema steps of app "${app.name}", this build knows ${app.migrations.length}: update the app to open it`,
          { found: ran, supported: app.migrations.length },
        );
      }
      for (const step of app.migrations.slice(ran)) db.exec(step);
      const resolved = resolveApp(db, app);
      const print = fingerprint(app);
      const reinstall = installed?.fingerprint !== print;
      let baselineOps = 0;
      if (reinstall) {
        dropTriggers(db);
        for (const table of resolved.tables) for (const sql of triggerSql(table)) db.exec(sql);
        if (options.baseline ?? true) baselineOps = baseline(db, resolved, now());
      }
      db.prepare(
        `INSERT INTO sdk_app (app, fingerprint, migrations, installed_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (app) DO UPDATE SET fingerprint = excluded.fingerprint,
           migrations = excluded.migrations, installed_at = excluded.installed_at`,
      ).run(app.name, print, app.migrations.length, now());
      return { resolved, reinstall, baselineOps };
    })
    .immediate();
  const materializer = new Materializer(db, result.resolved, now);
  materializers.set(db, materializer);
  return {
    app: result.resolved,
    materializer,
    reinstalled: result.reinstall,
    baselineOps: result.baselineOps,
  };
}

function columnValue(column: ResolvedColumn, row: Record<string, JsonValue>): JsonValue {
  const value = row[column.name] ?? null;
  return column.blob ? blobValue(isBlobRef(value) ? value : null) : value;
}

/** Queues the rows (and newly declared columns) the registers do not know yet. */
function baseline(db: SqliteDatabase, app: ResolvedApp, now: number): number {
  const clock = createLamportClock(db);
  const deviceId = readMeta(db, "device_id") ?? "";
  const known = db.prepare("SELECT 1 FROM lww_entity WHERE entity = ? AND entity_id = ?").pluck();
  const knownFields = db
    .prepare("SELECT field FROM lww_field WHERE entity = ? AND entity_id = ?")
    .pluck();
  let queued = 0;
  const emit = (draft: Omit<OpInput, "operationId" | "lamportTs">) => {
    const op: OpInput = { ...draft, operationId: randomUUID(), lamportTs: clock.next() };
    enqueue(db, op, now);
    foldOp(db, { ...op, deviceId });
    queued += 1;
  };
  const ordered = [...app.tables].sort((a, b) => a.depth - b.depth);
  for (const table of ordered) {
    const columns = table.columns.map((c) => `"${c.name}"`).join(", ");
    const rows = db
      .prepare(`SELECT "${table.primaryKey.column}" AS __id, ${columns} FROM "${table.table}"`)
      .all() as Array<Record<string, JsonValue>>;
    for (const row of rows) {
      const id = String(row.__id);
      if (!known.get(table.entity, id)) {
        const value: Record<string, JsonValue> = {};
        for (const column of table.columns) value[column.name] = columnValue(column, row);
        emit({ entity: table.entity, entityId: id, field: null, op: "insert", value });
        continue;
      }
      const fields = new Set(knownFields.all(table.entity, id) as string[]);
      for (const column of table.columns) {
        if (fields.has(column.name)) continue;
        // A newly declared column still empty (NULL) says nothing another device's view lacks
        // (no register shows as NULL, no blob), and a set of it, stamped now, could win over a
        // value another device, upgraded earlier, already wrote there.
        if ((row[column.name] ?? null) === null) continue;
        emit({
          entity: table.entity,
          entityId: id,
          field: column.name,
          op: "set",
          value: columnValue(column, row),
        });
      }
    }
  }
  return queued;
}
