import { createPrisma, type PrismaClient } from "@chorus/db";
import { createTestDatabase, type TestDatabase } from "@chorus/db/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { appRouter, createCallerFactory } from "../src/index.js";

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

it("system.health reports ok when its database answers, and fails when it does not", async () => {
  const createCaller = createCallerFactory(appRouter);
  expect(await createCaller({ prisma }).system.health()).toEqual({ ok: true });

  const unreachable = createPrisma("postgresql://nobody@127.0.0.1:1/none", { max: 1 });
  await expect(createCaller({ prisma: unreachable }).system.health()).rejects.toThrow();
  await unreachable.$disconnect();
});
