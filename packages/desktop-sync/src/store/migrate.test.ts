import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EngineError } from "../errors.js";
import { makeTempDir } from "../test-support.js";
import { migrate, schemaVersion } from "./migrate.js";
import { MIGRATIONS, type Migration } from "./migrations.js";
import { openStore } from "./sqlite.js";

let temp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  temp = makeTempDir();
});
afterEach(() => temp.remove());

const tableNames = (db: Database.Database) =>
  db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .pluck()
    .all();

describe("openStore", () => {
  it("creates the schema at the newest version with WAL, foreign keys and a busy timeout", () => {
    const db = openStore(join(temp.path, "p.db"), { create: true, busyTimeoutMs: 1234 });
    try {
      expect(schemaVersion(db)).toBe(MIGRATIONS.length);
      expect(tableNames(db)).toEqual(
        expect.arrayContaining([
          "sync_meta",
          "sync_pending_op",
          "playlists",
          "tracks",
          "playlist_entries",
        ]),
      );
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.pragma("foreign_keys", { simple: true })).toBe(1);
      expect(db.pragma("busy_timeout", { simple: true })).toBe(1234);
    } finally {
      db.close();
    }
  });

  it("refuses to create a file unless asked to", () => {
    expect(() => openStore(join(temp.path, "missing.db"))).toThrow();
  });

  it("is idempotent: reopening applies nothing and keeps the data", () => {
    const file = join(temp.path, "p.db");
    const first = openStore(file, { create: true });
    first.prepare("UPDATE sync_meta SET value = '41' WHERE key = 'lamport'").run();
    first.close();

    const db = new Database(file);
    try {
      expect(migrate(db)).toEqual({ from: MIGRATIONS.length, to: MIGRATIONS.length, applied: [] });
      expect(db.prepare("SELECT value FROM sync_meta WHERE key = 'lamport'").pluck().get()).toBe(
        "41",
      );
    } finally {
      db.close();
    }
  });
});

describe("migrate", () => {
  it("applies pending steps in order and records each in user_version", () => {
    const db = new Database(join(temp.path, "p.db"));
    try {
      const steps: Migration[] = [
        { version: 1, name: "one", sql: "CREATE TABLE a (x INTEGER) STRICT;" },
        { version: 2, name: "two", sql: "CREATE TABLE b (y INTEGER) STRICT;" },
      ];
      expect(migrate(db, steps.slice(0, 1))).toEqual({ from: 0, to: 1, applied: ["one"] });
      expect(migrate(db, steps)).toEqual({ from: 1, to: 2, applied: ["two"] });
      expect(migrate(db, steps)).toEqual({ from: 2, to: 2, applied: [] });
      expect(tableNames(db)).toEqual(["a", "b"]);
    } finally {
      db.close();
    }
  });

  it("rolls a failing step back whole, version included", () => {
    const db = new Database(join(temp.path, "p.db"));
    try {
      const steps: Migration[] = [
        { version: 1, name: "one", sql: "CREATE TABLE a (x INTEGER) STRICT;" },
        { version: 2, name: "broken", sql: "CREATE TABLE b (y INTEGER); SELECT * FROM nowhere;" },
      ];
      expect(() => migrate(db, steps)).toThrow(/nowhere/);
      expect(schemaVersion(db)).toBe(1);
      expect(tableNames(db)).toEqual(["a"]);
    } finally {
      db.close();
    }
  });

  it("refuses a file written by a newer schema, saying which versions", () => {
    const db = new Database(join(temp.path, "p.db"));
    try {
      db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
      const error = (() => {
        try {
          migrate(db);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(EngineError);
      expect(error).toMatchObject({
        code: "schema_too_new",
        details: { found: MIGRATIONS.length + 1, supported: MIGRATIONS.length },
      });
    } finally {
      db.close();
    }
  });

  it("rejects a migration list with gaps", () => {
    const db = new Database(":memory:");
    try {
      expect(() => migrate(db, [{ version: 2, name: "gap", sql: "" }])).toThrow(/expected 1/);
    } finally {
      db.close();
    }
  });
});

describe("sync_pending_op", () => {
  it("enforces the op kinds, unique operation ids and unique lamport values", () => {
    const db = openStore(join(temp.path, "p.db"), { create: true });
    try {
      const insert = db.prepare(
        `INSERT INTO sync_pending_op (operation_id, lamport_ts, entity, entity_id, field, op, value, created_at)
         VALUES (?, ?, 'playlist', 'e1', 'name', ?, ?, 0)`,
      );
      insert.run("op-1", 1, "set", JSON.stringify("Morning run"));
      expect(() => insert.run("op-2", 2, "upsert", null)).toThrow(/CHECK/);
      expect(() => insert.run("op-1", 3, "set", null)).toThrow(/UNIQUE/);
      expect(() => insert.run("op-3", 1, "set", null)).toThrow(/UNIQUE/);
      expect(() => insert.run("op-4", 4, "set", "{not json")).toThrow(/CHECK/);
    } finally {
      db.close();
    }
  });

  it("never reuses an id, so id order stays FIFO after deletes", () => {
    const db = openStore(join(temp.path, "p.db"), { create: true });
    try {
      const insert = db.prepare(
        `INSERT INTO sync_pending_op (operation_id, lamport_ts, entity, entity_id, op, created_at)
         VALUES (?, ?, 'track', 't1', 'noop', 0) RETURNING id`,
      );
      const first = insert.pluck().get("a", 1);
      db.prepare("DELETE FROM sync_pending_op").run();
      const second = insert.pluck().get("b", 2);
      expect(second).toBeGreaterThan(first as number);
    } finally {
      db.close();
    }
  });
});
