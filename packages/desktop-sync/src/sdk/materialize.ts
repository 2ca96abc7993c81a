import type { JsonValue, MaterializedEntity } from "@chorus/protocol";
import type Database from "better-sqlite3";
import { viewEntity } from "../lww/registers.js";
import type { SqliteDatabase } from "../store/sqlite.js";
import { blobRefOf } from "./blob-ref.js";
import { withCaptureOff } from "./capture.js";
import type { ResolvedApp, ResolvedColumn, ResolvedTable } from "./schema.js";

/*
 * Rows from registers. The app's tables are a view of the LWW registers: after remote ops
 * are folded, each touched entity's row is rewritten from its visible fields, with capture
 * off (no echo). The rule, a pure function of the registers so every device ends alike:
 *
 *   a row exists  <=>  its entity is visible, every non-null parent reference names a row
 *                      that exists, and the row satisfies the table's own constraints.
 *
 * A visible entity without its row is PARKED (sdk_parked, with the parent it waits for):
 * a child that arrived before its parent, a child whose parent was deleted elsewhere, a row
 * re-created after a delete with only some fields (a NOT NULL column left empty). It is never
 * dropped: its registers keep it, and it is written as soon as the parent's row appears (or
 * its own next op makes it whole). Removing a parent row first removes (parks) its children's
 * rows, children first, so no foreign key action of SQLite ever runs on a synced table.
 *
 * Batches: `applyMany` writes deletes children first, then upserts parents first (by depth
 * in the declared parent graph), all inside the caller's transaction.
 */

type Row = Record<string, string | number | null>;

interface TableStatements {
  upsert: Database.Statement;
  remove: Database.Statement;
  childIds: Map<string, Database.Statement>;
  exists: Database.Statement;
}

const q = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

function toSql(column: ResolvedColumn, value: JsonValue | undefined): string | number | null {
  if (value === undefined || value === null) return column.fallback;
  // A blob column shows the reference; a value that is not one shows as no blob.
  if (column.blob) return blobRefOf(value);
  switch (column.kind) {
    case "integer":
      if (typeof value === "boolean") return value ? 1 : 0;
      return typeof value === "number" && Number.isSafeInteger(value) ? value : column.fallback;
    case "real":
      return typeof value === "number" ? value : column.fallback;
    case "text":
      return typeof value === "string" ? value : column.fallback;
    case "any":
      if (typeof value === "string" || typeof value === "number") return value;
      if (typeof value === "boolean") return value ? 1 : 0;
      return JSON.stringify(value);
  }
}

function isConstraintError(error: unknown): boolean {
  return (
    error instanceof Error &&
    "code" in error &&
    typeof error.code === "string" &&
    error.code.startsWith("SQLITE_CONSTRAINT")
  );
}

export class Materializer {
  private readonly statements = new Map<string, TableStatements>();
  private readonly park: Database.Statement;
  private readonly unpark: Database.Statement;
  private readonly waiting: Database.Statement;

  constructor(
    readonly db: SqliteDatabase,
    readonly app: ResolvedApp,
    private readonly now: () => number = Date.now,
  ) {
    this.park = db.prepare(
      `INSERT INTO sdk_parked (entity, entity_id, parent_entity, parent_id, reason, parked_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (entity, entity_id) DO UPDATE SET parent_entity = excluded.parent_entity,
         parent_id = excluded.parent_id, reason = excluded.reason`,
    );
    this.unpark = db.prepare("DELETE FROM sdk_parked WHERE entity = ? AND entity_id = ?");
    this.waiting = db.prepare(
      "SELECT entity, entity_id FROM sdk_parked WHERE parent_entity = ? AND parent_id = ? ORDER BY entity, entity_id",
    );
  }

  private prepared(table: ResolvedTable): TableStatements {
    let s = this.statements.get(table.table);
    if (!s) {
      const pk = q(table.primaryKey.column);
      const stamps = [table.timestamps.created, table.timestamps.updated].filter(
        (c): c is string => c !== undefined,
      );
      const columns = [pk, ...table.columns.map((c) => q(c.name)), ...stamps.map(q)];
      const params = ["@id", ...table.columns.map((_, i) => `@c${i}`), ...stamps.map(() => "@now")];
      const updates = [
        ...table.columns.map((c) => `${q(c.name)} = excluded.${q(c.name)}`),
        ...(table.timestamps.updated
          ? [`${q(table.timestamps.updated)} = excluded.${q(table.timestamps.updated)}`]
          : []),
      ];
      s = {
        upsert: this.db.prepare(
          `INSERT INTO ${q(table.table)} (${columns.join(", ")}) VALUES (${params.join(", ")})
           ON CONFLICT (${pk}) DO UPDATE SET ${updates.join(", ")}`,
        ),
        remove: this.db.prepare(`DELETE FROM ${q(table.table)} WHERE ${pk} = ?`),
        exists: this.db.prepare(`SELECT 1 FROM ${q(table.table)} WHERE ${pk} = ?`).pluck(),
        childIds: new Map(
          table.children.map(({ table: child, column }) => [
            `${child.table}.${column}`,
            this.db
              .prepare(
                `SELECT ${q(child.primaryKey.column)} FROM ${q(child.table)} WHERE ${q(column)} = ?`,
              )
              .pluck(),
          ]),
        ),
      };
      this.statements.set(table.table, s);
    }
    return s;
  }

  /**
   * Writes one synced column of a row as the app's own UPDATE would, capture on: the trigger
   * queues, stamps and folds a `set` op like any edit (restoring an older value). `unknown`:
   * the entity or field is not a synced column of this app; `missing`: no such row (deleted,
   * or parked); `same`: the row holds that value already (no op).
   */
  writeField(
    entity: string,
    entityId: string,
    field: string,
    value: JsonValue,
  ): "written" | "same" | "missing" | "unknown" {
    const table = this.app.byEntity(entity);
    const column = table?.columns.find((c) => c.name === field);
    if (!table || !column) return "unknown";
    if (!this.prepared(table).exists.get(entityId)) return "missing";
    const sqlValue = toSql(column, value);
    const updated = table.timestamps.updated;
    const changed = this.db
      .prepare(
        `UPDATE ${q(table.table)} SET ${q(column.name)} = @value${updated ? `, ${q(updated)} = @now` : ""}
          WHERE ${q(table.primaryKey.column)} = @id AND ${q(column.name)} IS NOT @value`,
      )
      .run({ value: sqlValue, id: entityId, ...(updated ? { now: this.now() } : {}) }).changes;
    return changed > 0 ? "written" : "same";
  }

  /** True for a table whose deletes do not sync (remote deletes of it are not folded). */
  ignoresDeletes(entity: string): boolean {
    const table = this.app.byEntity(entity);
    return table !== undefined && !table.syncDeletes;
  }

  /** Rewrites the row of one entity from its view (capture off). */
  apply(view: MaterializedEntity): void {
    withCaptureOff(this.db, () => this.write(view));
  }

  /**
   * Rewrites the rows of many touched entities: deletes children first, then upserts
   * parents first, so a batch holding a parent and its child writes the parent before the
   * child (and a child parked meanwhile is written as its parent lands).
   */
  applyMany(touched: Iterable<MaterializedEntity>): void {
    const views: Array<{ view: MaterializedEntity; depth: number }> = [];
    for (const view of touched) {
      const table = this.app.byEntity(view.entity);
      if (table) views.push({ view, depth: table.depth });
    }
    const deletes = views.filter((v) => v.view.deleted).sort((a, b) => b.depth - a.depth);
    const upserts = views.filter((v) => !v.view.deleted).sort((a, b) => a.depth - b.depth);
    withCaptureOff(this.db, () => {
      for (const { view } of deletes) this.write(view);
      for (const { view } of upserts) this.write(view);
    });
  }

  private write(view: MaterializedEntity): void {
    const table = this.app.byEntity(view.entity);
    // An entity this app does not declare: its registers are kept (a newer build or another
    // app may rely on them), but it has no table to show it in.
    if (!table) return;
    if (view.deleted) {
      this.removeRow(table, view.entityId);
      this.unpark.run(view.entity, view.entityId);
      return;
    }
    const row: Row = {};
    table.columns.forEach((column, i) => {
      row[`c${i}`] = toSql(column, view.fields[column.name]);
    });
    for (const [i, column] of table.columns.entries()) {
      const parent = table.parents.find((p) => p.column === column.name);
      const ref = row[`c${i}`];
      if (!parent || ref === null || ref === undefined) continue;
      if (!this.prepared(parent.table).exists.get(ref)) {
        this.parkRow(table, view.entityId, parent.table.entity, String(ref), "parent_missing");
        return;
      }
    }
    try {
      this.prepared(table).upsert.run({ id: view.entityId, now: this.now(), ...row });
    } catch (error) {
      if (!isConstraintError(error)) throw error;
      this.parkRow(table, view.entityId, null, null, (error as Error).message);
      return;
    }
    this.unpark.run(view.entity, view.entityId);
    this.releaseChildren(table, view.entityId);
  }

  /** The row cannot exist now: remove it (children first) and remember why it waits. */
  private parkRow(
    table: ResolvedTable,
    id: string,
    parentEntity: string | null,
    parentId: string | null,
    reason: string,
  ): void {
    this.removeRow(table, id);
    this.park.run(table.entity, id, parentEntity, parentId, reason, this.now());
  }

  private removeRow(table: ResolvedTable, id: string): void {
    const s = this.prepared(table);
    for (const { table: child, column } of table.children) {
      const ids = s.childIds.get(`${child.table}.${column}`)?.all(id) as string[];
      for (const childId of ids) this.parkRow(child, childId, table.entity, id, "parent_missing");
    }
    s.remove.run(id);
  }

  /** A parent's row just appeared: write the children parked waiting for it. */
  private releaseChildren(table: ResolvedTable, id: string): void {
    if (table.children.length === 0) return;
    const waiting = this.waiting.all(table.entity, id) as Array<{
      entity: string;
      entity_id: string;
    }>;
    for (const { entity, entity_id } of waiting) {
      const view = viewEntity(this.db, entity, entity_id);
      if (view) this.write(view);
      else this.unpark.run(entity, entity_id);
    }
  }

  /** Re-checks every parked row whose parent exists now (after a local write made it). */
  releaseAll(): number {
    const parked = this.db
      .prepare(
        "SELECT entity, entity_id FROM sdk_parked WHERE parent_entity IS NOT NULL ORDER BY entity, entity_id",
      )
      .all() as Array<{ entity: string; entity_id: string }>;
    if (parked.length === 0) return 0;
    let released = 0;
    withCaptureOff(this.db, () => {
      for (const { entity, entity_id } of parked) {
        const view = viewEntity(this.db, entity, entity_id);
        if (!view) continue;
        this.write(view);
        if (
          !this.db
            .prepare("SELECT 1 FROM sdk_parked WHERE entity = ? AND entity_id = ?")
            .get(entity, entity_id)
        )
          released += 1;
      }
    });
    return released;
  }

  /** Empties every synced table, children first (resync and re-binding rebuild them). */
  clear(): void {
    withCaptureOff(this.db, () => {
      const ordered = [...this.app.tables].sort((a, b) => b.depth - a.depth);
      for (const table of ordered) this.db.exec(`DELETE FROM ${q(table.table)}`);
      this.db.exec("DELETE FROM sdk_parked");
    });
  }

  parkedCount(): number {
    return this.db.prepare("SELECT COUNT(*) FROM sdk_parked").pluck().get() as number;
  }
}
