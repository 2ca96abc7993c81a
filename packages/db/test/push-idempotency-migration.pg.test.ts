import { cpSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MIGRATIONS_DIR, migrate } from "../src/migrate.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";

// Before this migration push idempotency was keyed by (user, device, operation id), so a
// profile re-bound under a new device id could store an op a second time. The migration keys
// it by (user, operation id); a database that already holds such copies keeps the first.
const MIGRATION = "20261130233000_push_idempotency_per_operation";

let db: TestDatabase;
let client: pg.Client;
beforeAll(async () => {
  db = await createTestDatabase({ migrated: false });
  const before = mkdtempSync(join(tmpdir(), "chorus-migrations-before-"));
  for (const name of readdirSync(DEFAULT_MIGRATIONS_DIR)) {
    if (name < MIGRATION)
      cpSync(join(DEFAULT_MIGRATIONS_DIR, name), join(before, name), { recursive: true });
  }
  await migrate(db.url, { dir: before });
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
});

async function insertOp(userId: string, deviceId: string, operationId: string, lamport: number) {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO sync_op (user_id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value)
     VALUES ($1, $2, $3, $4, 'playlist', 'p1', 'name', 'set', '"x"') RETURNING id`,
    [userId, deviceId, operationId, lamport],
  );
  return Number(rows[0]?.id);
}

describe(`migration ${MIGRATION} over a database that holds re-bind duplicates`, () => {
  it("keeps the first copy of an op stored under two device ids and then refuses a second", async () => {
    const user = await client.query<{ id: string }>(
      `INSERT INTO users (id, email, password_hash, updated_at)
       VALUES (gen_random_uuid(), 'rebind@example.test', 'x', now()) RETURNING id`,
    );
    const userId = user.rows[0]?.id as string;
    const device = async () =>
      (
        await client.query<{ id: string }>(
          `INSERT INTO devices (id, user_id, name, platform, app_version)
           VALUES (gen_random_uuid(), $1, 'd', 'linux', '0.1.0') RETURNING id`,
          [userId],
        )
      ).rows[0]?.id as string;
    const oldDevice = await device();
    const newDevice = await device();
    const dup = "00000000-0000-4000-8000-000000000001";
    const other = "00000000-0000-4000-8000-000000000002";
    const firstId = await insertOp(userId, oldDevice, dup, 1);
    const otherId = await insertOp(userId, oldDevice, other, 2);
    const secondId = await insertOp(userId, newDevice, dup, 1); // the old key allowed it

    const result = await migrate(db.url);
    expect(result.applied).toContain(MIGRATION);

    const { rows } = await client.query<{ id: string; device_id: string }>(
      "SELECT id, device_id FROM sync_op WHERE user_id = $1 ORDER BY id",
      [userId],
    );
    expect(rows.map((r) => Number(r.id))).toEqual([firstId, otherId]);
    expect(rows[0]?.device_id).toBe(oldDevice);
    expect(secondId).toBeGreaterThan(firstId);

    // The new key: the same operation under another device id is refused by the index itself.
    await expect(insertOp(userId, newDevice, dup, 1)).rejects.toThrow(
      /sync_op_user_id_operation_id_key/,
    );
  });
});
