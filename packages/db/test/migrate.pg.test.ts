import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import {
  DEFAULT_MIGRATIONS_DIR,
  MigrationError,
  migrate,
  migrationChecksum,
  readMigrations,
} from "../src/migrate.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";

const databases: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(databases.splice(0).map((db) => db.drop()));
});

async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase({ migrated: false });
  databases.push(db);
  return db;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "chorus-migrations-"));
  for (const [name, sql] of Object.entries(files)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, "migration.sql"), sql);
  }
  return dir;
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  applied_steps_count: number;
  logs: string | null;
  rolled_back_at: Date | null;
}

describe("migration runner", () => {
  it("applies the project's migrations and records them the way Prisma does", async () => {
    const db = await freshDatabase();
    const result = await migrate(db.url);
    const files = readMigrations(DEFAULT_MIGRATIONS_DIR);
    expect(result.applied).toEqual(files.map((f) => f.name));

    const rows = await query<MigrationRow>(
      db.url,
      `SELECT migration_name, checksum, finished_at, applied_steps_count, logs, rolled_back_at
         FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
    );
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const [i, row] of rows.entries()) {
      expect(row.checksum).toBe(files[i]?.checksum);
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
      expect(row.logs).toBeNull();
      expect(row.rolled_back_at).toBeNull();
    }
  });

  it("is idempotent: a second run applies nothing and changes nothing", async () => {
    const db = await freshDatabase();
    await migrate(db.url);
    const before = await query(db.url, `SELECT * FROM "_prisma_migrations" ORDER BY id`);
    const second = await migrate(db.url);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied.length).toBe(before.length);
    expect(await query(db.url, `SELECT * FROM "_prisma_migrations" ORDER BY id`)).toEqual(before);
  });

  it("applies folders in name order, so a later migration can rely on an earlier one", async () => {
    const db = await freshDatabase();
    // Written to disk in reverse order: only sorting by name makes 002 find 001's table.
    const dir = migrationsDir({
      "002_add_column": `ALTER TABLE thing ADD COLUMN label TEXT;`,
      "001_create": `CREATE TABLE thing (id INT PRIMARY KEY);`,
    });
    const result = await migrate(db.url, { dir });
    expect(result.applied).toEqual(["001_create", "002_add_column"]);
    const columns = await query<{ column_name: string }>(
      db.url,
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'thing' ORDER BY 1`,
    );
    expect(columns.map((c) => c.column_name)).toEqual(["id", "label"]);
  });

  it("refuses to run when an applied migration file changed, naming it", async () => {
    const db = await freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), "chorus-migrations-"));
    cpSync(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
    await migrate(db.url, { dir });

    const [first] = readMigrations(dir);
    if (!first) throw new Error("no migrations");
    writeFileSync(join(dir, first.name, "migration.sql"), `${first.sql}\n-- edited later\n`);

    const error = await migrate(db.url, { dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).migration).toBe(first.name);
    expect((error as Error).message).toMatch(/modified after it was applied/);
  });

  it("rolls a failing migration back entirely and says which one failed and why", async () => {
    const db = await freshDatabase();
    const dir = migrationsDir({
      "001_ok": `CREATE TABLE kept (id INT);`,
      "002_broken": `CREATE TABLE half_done (id INT);\nINSERT INTO missing_table VALUES (1);`,
    });
    const error = await migrate(db.url, { dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).migration).toBe("002_broken");
    expect((error as Error).message).toMatch(
      /002_broken failed and was rolled back: .*missing_table/,
    );

    const tables = await query<{ table_name: string }>(
      db.url,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(["_prisma_migrations", "kept"]);
    const rows = await query<MigrationRow>(
      db.url,
      `SELECT migration_name FROM "_prisma_migrations"`,
    );
    expect(rows.map((r) => r.migration_name)).toEqual(["001_ok"]);

    // Once fixed, the rerun applies just the repaired migration.
    writeFileSync(join(dir, "002_broken", "migration.sql"), `CREATE TABLE half_done (id INT);`);
    expect((await migrate(db.url, { dir })).applied).toEqual(["002_broken"]);
  });

  it("refuses a database that records a migration missing from the folder", async () => {
    const db = await freshDatabase();
    await migrate(db.url, { dir: migrationsDir({ "001_a": "SELECT 1;" }) });
    const error = await migrate(db.url, { dir: migrationsDir({ "002_b": "SELECT 1;" }) }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(/001_a is applied in the database but missing/);
  });

  it("uses sha256 of the file's bytes as the checksum, as Prisma does", () => {
    // Computed independently with `printf 'SELECT 1;\\n' | sha256sum`.
    expect(migrationChecksum("SELECT 1;\n")).toBe(
      "b4e0497804e46e0a0b0b8c31975b062152d551bac49c3c2e80932567b4085dcd",
    );
  });
});
