import { ENTITY_NAME_PATTERN, FIELD_NAME_PATTERN } from "@chorus/protocol";
import { z } from "zod";
import { EngineError } from "../errors.js";
import type { SqliteDatabase } from "../store/sqlite.js";

/*
 * What an app declares to get sync: its synced tables, each with a text primary key, the
 * whitelist of columns that sync (a column not listed never leaves the device), its parents
 * (the table's foreign keys) and whether deletes sync. The engine checks the declaration
 * twice at start: its shape (zod, below), then against the real tables of the profile file
 * (`resolveApp`): a bad declaration is refused with one clear message, before any trigger is
 * installed.
 */

const name = (what: string) =>
  z
    .string()
    .regex(
      ENTITY_NAME_PATTERN,
      `${what} must be lower-case letters, digits and _, starting with a letter, at most 64 characters`,
    );

const literal = z.union([z.string(), z.number(), z.null()]);

export const syncedTableSchema = z
  .object({
    /** The SQLite table. */
    table: name("a table name"),
    /** The entity name on the wire (default: the table name). Part of every op: never rename it. */
    entity: name("an entity name").optional(),
    /**
     * The primary key: one TEXT column. `uuid`: ids made on the device (lower-case UUIDs);
     * `hash`: a content hash or any other id every device derives alike (1 to 128 characters).
     */
    primaryKey: z.object({ column: name("a column name"), kind: z.enum(["uuid", "hash"]) }),
    /** The synced columns (never the primary key). A column not listed never leaves the device. */
    columns: z.array(name("a column name")).min(1, "a synced table syncs at least one column"),
    /** The table's foreign keys, each to another synced table (parents apply before children). */
    parents: z
      .array(z.object({ column: name("a column name"), table: name("a table name") }))
      .default([]),
    /**
     * Whether deletes sync. `false`: a delete stays on this device (a read-state table that
     * syncs some columns only); deletes from other devices are ignored.
     */
    syncDeletes: z.boolean().default(true),
    /**
     * The value a synced column takes when a row is written from other devices' ops and the
     * column has no visible value (a row re-created after a delete carries only the fields
     * written after it). Default: NULL.
     */
    fallbacks: z.record(z.string(), literal).default({}),
    /**
     * Synced TEXT columns that hold a blob reference (a file synced beside the row, named by
     * the lower-case hex SHA-256 the server stores it under) or NULL. On the wire the value
     * is `{ "$blobs": [sha256] }`, which the server's blob garbage collection and the seal of
     * an encrypted account recognise; the engine uploads and downloads the files
     * (src/blobs/).
     */
    blobs: z.array(name("a column name")).default([]),
    /**
     * Local bookkeeping columns (never synced) the engine sets to the time in ms when it writes
     * a row from other devices' ops: `created` on insert, `updated` on every write.
     */
    timestamps: z
      .object({
        created: name("a column name").optional(),
        updated: name("a column name").optional(),
      })
      .default({}),
  })
  .strict();

export const syncAppSchema = z
  .object({
    /** The app's name (one app per profile file). */
    name: name("an app name"),
    /**
     * The app's own schema steps, append-only; step N runs once, in order, before the
     * declaration is checked (the engine records how many ran). Tables an app adopts from an
     * older layout may be created elsewhere.
     */
    migrations: z.array(z.string().min(1)).default([]),
    tables: z.array(syncedTableSchema).min(1, "an app declares at least one synced table"),
  })
  .strict();

export type SyncedTableDeclaration = z.input<typeof syncedTableSchema>;
export type SyncAppDeclaration = z.input<typeof syncAppSchema>;
export type SyncApp = z.output<typeof syncAppSchema>;

/** Declares an app: checks the shape now (throws a clear error) and returns it normalized. */
export function defineSyncApp(declaration: SyncAppDeclaration): SyncApp {
  const parsed = syncAppSchema.safeParse(declaration);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
    throw invalid(
      `the sync declaration of app "${String((declaration as { name?: unknown }).name)}" is invalid${where}: ${issue?.message ?? "invalid"}`,
    );
  }
  return parsed.data;
}

function invalid(message: string): EngineError {
  return new EngineError("invalid_app_schema", message, {});
}

/** How a synced column stores values, from its declared SQLite type. */
export type ColumnKind = "integer" | "real" | "text" | "any";

export interface ResolvedColumn {
  readonly name: string;
  readonly kind: ColumnKind;
  readonly fallback: string | number | null;
  /** Holds a blob reference (the `blobs` of the declaration). */
  readonly blob: boolean;
}

export interface ResolvedTable {
  readonly table: string;
  readonly entity: string;
  readonly primaryKey: { column: string; kind: "uuid" | "hash" };
  readonly columns: readonly ResolvedColumn[];
  parents: Array<{ column: string; table: ResolvedTable }>;
  /** Synced tables that name this one as a parent, with the referencing column. */
  readonly children: Array<{ table: ResolvedTable; column: string }>;
  readonly syncDeletes: boolean;
  readonly timestamps: { created?: string; updated?: string };
  /** 0 for a table without parents, else one more than its deepest parent. */
  depth: number;
}

export interface ResolvedApp {
  readonly app: SyncApp;
  readonly tables: readonly ResolvedTable[];
  byEntity(entity: string): ResolvedTable | undefined;
}

interface ColumnInfo {
  name: string;
  type: string;
  notnull: number;
  pk: number;
}

function kindOf(type: string): ColumnKind | "blob" {
  const t = type.toUpperCase();
  if (t.includes("INT")) return "integer";
  if (t.includes("CHAR") || t.includes("CLOB") || t.includes("TEXT")) return "text";
  if (t.includes("BLOB")) return "blob";
  if (t.includes("REAL") || t.includes("FLOA") || t.includes("DOUB")) return "real";
  return "any";
}

/**
 * Checks the declaration against the tables as they are in `db` and resolves it: every
 * table and column exists, the primary key is one TEXT column, no BLOB column syncs (JSON
 * cannot carry one), every declared parent is a real FOREIGN KEY of the table and every
 * foreign key is declared (so a local write can never hold a child its parent lacks, and a
 * remote apply never meets a constraint it did not plan for), no UNIQUE constraint besides
 * the key (two devices could each win it: the order of arrival would decide), no cycle.
 */
export function resolveApp(db: SqliteDatabase, app: SyncApp): ResolvedApp {
  const fail = (message: string): never => {
    throw invalid(`app "${app.name}": ${message}`);
  };
  const seenTables = new Set<string>();
  const seenEntities = new Set<string>();
  const resolved = new Map<string, ResolvedTable>();
  for (const declared of app.tables) {
    const entity = declared.entity ?? declared.table;
    if (seenTables.has(declared.table)) fail(`table "${declared.table}" is declared twice`);
    if (seenEntities.has(entity)) fail(`entity name "${entity}" is used by two tables`);
    seenTables.add(declared.table);
    seenEntities.add(entity);
    if (
      declared.table.startsWith("sync_") ||
      declared.table.startsWith("lww_") ||
      declared.table.startsWith("sdk_")
    ) {
      fail(
        `table "${declared.table}" uses a prefix the engine keeps for itself (sync_, lww_, sdk_)`,
      );
    }
    const info = db.prepare(`PRAGMA table_info("${declared.table}")`).all() as ColumnInfo[];
    if (info.length === 0)
      fail(
        `table "${declared.table}" does not exist in the profile file (create it in the app's migrations)`,
      );
    const columns = new Map(info.map((c) => [c.name, c]));
    const pk = info.filter((c) => c.pk > 0);
    const pkColumn = columns.get(declared.primaryKey.column);
    if (pk.length !== 1 || pk[0]?.name !== declared.primaryKey.column || !pkColumn) {
      fail(
        `table "${declared.table}": the primary key must be the single column "${declared.primaryKey.column}"`,
      );
    }
    if (kindOf(pkColumn?.type ?? "") !== "text") {
      fail(
        `table "${declared.table}": primary key "${declared.primaryKey.column}" must be TEXT (a UUID or a content hash)`,
      );
    }
    const synced: ResolvedColumn[] = [];
    const seenColumns = new Set<string>();
    for (const column of declared.columns) {
      if (seenColumns.has(column))
        fail(`table "${declared.table}": column "${column}" is listed twice`);
      seenColumns.add(column);
      if (column === declared.primaryKey.column) {
        fail(
          `table "${declared.table}": the primary key "${column}" is the entity id, not a synced column`,
        );
      }
      const c = columns.get(column);
      if (!c) fail(`table "${declared.table}" has no column "${column}"`);
      const kind = kindOf(c?.type ?? "");
      if (kind === "blob")
        fail(`table "${declared.table}": column "${column}" is a BLOB, which JSON cannot carry`);
      if (!FIELD_NAME_PATTERN.test(column))
        fail(`table "${declared.table}": column "${column}" is not a valid field name`);
      const blob = declared.blobs.includes(column);
      if (blob && kind !== "text")
        fail(
          `table "${declared.table}": blob column "${column}" must be TEXT (it holds a SHA-256)`,
        );
      if (blob && declared.fallbacks[column] !== undefined)
        fail(`table "${declared.table}": blob column "${column}" cannot have a fallback`);
      synced.push({
        name: column,
        kind: kind as ColumnKind,
        fallback: declared.fallbacks[column] ?? null,
        blob,
      });
    }
    for (const column of declared.blobs) {
      if (!seenColumns.has(column))
        fail(`table "${declared.table}": blob column "${column}" is not a synced column`);
    }
    for (const key of Object.keys(declared.fallbacks)) {
      if (!seenColumns.has(key))
        fail(`table "${declared.table}": fallback for "${key}", which is not a synced column`);
    }
    for (const stamp of [declared.timestamps.created, declared.timestamps.updated]) {
      if (stamp === undefined) continue;
      if (!columns.has(stamp)) fail(`table "${declared.table}" has no timestamp column "${stamp}"`);
      if (seenColumns.has(stamp))
        fail(`table "${declared.table}": "${stamp}" is synced, so it cannot be a local timestamp`);
    }
    const indexes = db.prepare(`PRAGMA index_list("${declared.table}")`).all() as Array<{
      name: string;
      unique: number;
      origin: string;
    }>;
    for (const index of indexes) {
      if (index.unique && index.origin !== "pk") {
        fail(
          `table "${declared.table}": UNIQUE constraint or index "${index.name}" besides the primary key; two devices could each write a row that wins it, so it cannot sync (check uniqueness in the app instead)`,
        );
      }
    }
    resolved.set(declared.table, {
      table: declared.table,
      entity,
      primaryKey: declared.primaryKey,
      columns: synced,
      parents: [],
      children: [],
      syncDeletes: declared.syncDeletes,
      timestamps: declared.timestamps,
      depth: 0,
    });
  }

  for (const declared of app.tables) {
    const table = resolved.get(declared.table) as ResolvedTable;
    const fks = db.prepare(`PRAGMA foreign_key_list("${declared.table}")`).all() as Array<{
      id: number;
      seq: number;
      table: string;
      from: string;
      to: string | null;
    }>;
    const byId = new Map<number, typeof fks>();
    for (const fk of fks) byId.set(fk.id, [...(byId.get(fk.id) ?? []), fk]);
    const real = [...byId.values()].map((parts) => {
      if (parts.length !== 1)
        fail(`table "${declared.table}": a foreign key of several columns cannot sync`);
      return parts[0] as (typeof fks)[number];
    });
    const parents: Array<{ column: string; table: ResolvedTable }> = [];
    for (const parent of declared.parents) {
      const target = resolved.get(parent.table);
      if (!target)
        fail(
          `table "${declared.table}": parent "${parent.table}" is not a synced table of this app`,
        );
      if (!table.columns.some((c) => c.name === parent.column)) {
        fail(`table "${declared.table}": parent column "${parent.column}" must be a synced column`);
      }
      const fk = real.find((f) => f.from === parent.column && f.table === parent.table);
      if (!fk) {
        fail(
          `table "${declared.table}": parent ${parent.column} -> ${parent.table} has no FOREIGN KEY (${parent.column}) REFERENCES ${parent.table} in the table`,
        );
      }
      if (fk && fk.to !== null && fk.to !== target?.primaryKey.column) {
        fail(
          `table "${declared.table}": foreign key ${parent.column} must reference the primary key of "${parent.table}"`,
        );
      }
      parents.push({ column: parent.column, table: target as ResolvedTable });
    }
    for (const fk of real) {
      if (!declared.parents.some((p) => p.column === fk.from && p.table === fk.table)) {
        fail(
          `table "${declared.table}": FOREIGN KEY (${fk.from}) REFERENCES ${fk.table} is not declared as a parent; declare { column: "${fk.from}", table: "${fk.table}" } (the parent must be a synced table)`,
        );
      }
    }
    table.parents = parents;
    for (const parent of parents) parent.table.children.push({ table, column: parent.column });
  }

  // Depth by longest path from a root; a cycle (a table its own ancestor) is refused.
  const visiting = new Set<string>();
  const depthOf = (table: ResolvedTable, path: string[]): number => {
    if (visiting.has(table.table))
      fail(
        `parents form a cycle (${[...path, table.table].join(" -> ")}); a synced table cannot be its own ancestor`,
      );
    visiting.add(table.table);
    let depth = 0;
    for (const parent of table.parents)
      depth = Math.max(depth, depthOf(parent.table, [...path, table.table]) + 1);
    visiting.delete(table.table);
    return depth;
  };
  for (const table of resolved.values()) table.depth = depthOf(table, []);

  const byEntity = new Map([...resolved.values()].map((t) => [t.entity, t]));
  return { app, tables: [...resolved.values()], byEntity: (entity) => byEntity.get(entity) };
}
