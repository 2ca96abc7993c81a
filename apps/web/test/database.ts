import { createPrisma, type PrismaClient } from "@chorus/db";
import { createTestDatabase, type TestDatabase } from "@chorus/db/testing";
import { afterAll, beforeAll } from "vitest";

export interface TestPrisma {
  /** A Prisma client on the file's own database (set in beforeAll). */
  prisma: PrismaClient;
  /** That database's URL. */
  url: string;
}

/**
 * A fresh, migrated database for the test file and a Prisma client of `max` connections on it,
 * both gone after the file. Call it before the file's own hooks, which may then use it.
 */
export function testPrisma(max = 4): TestPrisma {
  const handle = {} as TestPrisma;
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    handle.url = db.url;
    handle.prisma = createPrisma(db.url, { max });
  });
  afterAll(async () => {
    await handle.prisma?.$disconnect();
    await db?.drop();
  });
  return handle;
}
