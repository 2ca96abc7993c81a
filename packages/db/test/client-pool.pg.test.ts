import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrisma, poolOf } from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";

// createPrisma makes the node-postgres pool itself and lends it to the push statement (poolOf).
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the pool under a createPrisma client", () => {
  it("survives an idle connection dropped by the server before Prisma ever connected", async () => {
    const prisma = createPrisma(db.url, { max: 1 });
    const pool = poolOf(prisma);
    if (!pool) throw new Error("createPrisma's client has no pool");
    // Used straight away, as a push may be, before any Prisma query.
    const { rows } = await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query("SELECT pg_terminate_backend($1)", [rows[0]?.pid]);
    await admin.end();
    // The idle connection errors and leaves the pool; the process goes on.
    await until("the pool drops the dead connection", () => pool.totalCount === 0);
    expect((await pool.query<{ one: number }>("SELECT 1 AS one")).rows[0]?.one).toBe(1);
    expect(await prisma.$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }]);
    await prisma.$disconnect();
    // Ended with the client: nothing is lent any more.
    expect(poolOf(prisma)).toBeNull();
  });
});
