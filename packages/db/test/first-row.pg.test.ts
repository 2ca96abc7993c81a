import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrisma, type PrismaClient, poolOf, queryPreparedFirstRow } from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";

// queryPreparedFirstRow runs a named statement as node-postgres' own Query would, and answers
// its first row's text by position (ADR 0047).
let db: TestDatabase;
let prisma: PrismaClient;
beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, { max: 1 });
});
afterAll(async () => {
  await prisma.$disconnect();
  await db.drop();
});

const run = (name: string, text: string, values: (string | number | boolean | null)[]) => {
  const answer = queryPreparedFirstRow(prisma, { name, text, values });
  if (!answer) throw new Error("createPrisma's client has a pool");
  return answer;
};

async function preparedNamed(name: string): Promise<number> {
  const pool = poolOf(prisma);
  if (!pool) throw new Error("createPrisma's client has a pool");
  const { rows } = await pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name = $1",
    [name],
  );
  return rows[0]?.n ?? -1;
}

describe("queryPreparedFirstRow", () => {
  it("answers the first row's columns as text in order, NULL as null, no row as null", async () => {
    const text =
      "SELECT $1::int + 1 AS a, NULL::text AS b, $2::boolean AS c, ARRAY[$3::bigint, 2] AS d, $4::text AS e FROM generate_series(1, $5::int)";
    expect(await run("first_row_shape", text, [41, true, "9007199254740993", null, 2])).toEqual([
      "42",
      null,
      "t",
      "{9007199254740993,2}",
      null,
    ]);
    expect(await run("first_row_shape", text, [1, false, "1", "x", 0])).toBeNull();
  });

  it("parses a statement once per connection, and again only when its parse failed", async () => {
    const text = "SELECT n FROM first_row_later WHERE n = $1::int";
    // The table does not exist yet: Postgres refuses the parse, and the connection forgets it.
    await expect(run("first_row_later", text, [1])).rejects.toThrow(/first_row_later/);
    expect(await preparedNamed("first_row_later")).toBe(0);
    await prisma.$executeRawUnsafe("CREATE TABLE first_row_later (n int)");
    await prisma.$executeRawUnsafe("INSERT INTO first_row_later VALUES (1), (2)");
    expect(await run("first_row_later", text, [1])).toEqual(["1"]);
    // Executed again on the same connection without another parse (which Postgres would refuse:
    // the name is taken), also after an execution Postgres refused.
    expect(await run("first_row_later", text, [2])).toEqual(["2"]);
    await expect(run("first_row_later", text, ["not a number"])).rejects.toThrow(/integer/);
    expect(await run("first_row_later", text, [2])).toEqual(["2"]);
    expect(await preparedNamed("first_row_later")).toBe(1);
  });

  it("refuses another text under a name already used on the connection", async () => {
    await run("first_row_taken", "SELECT 1 AS one", []);
    await expect(run("first_row_taken", "SELECT 2 AS two", [])).rejects.toThrow(
      /Prepared statements must be unique/,
    );
    expect(await run("first_row_taken", "SELECT 1 AS one", [])).toEqual(["1"]);
  });
});
