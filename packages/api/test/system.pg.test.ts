import { createPrisma, type PrismaClient } from "@chorus/db";
import { createTestDatabase, type TestDatabase } from "@chorus/db/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { appRouter, type Context, createServices } from "../src/index.js";
import { createCallerFactory } from "../src/trpc.js";

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

function contextFor(client: PrismaClient): Context {
  return {
    services: createServices({ prisma: client }),
    principal: null,
    authError: null,
    socket: null,
    slowConsumerBytes: 1024,
  };
}

it("system.health reports ok when its database answers, and fails when it does not", async () => {
  const createCaller = createCallerFactory(appRouter);
  expect(await createCaller(contextFor(prisma)).system.health()).toEqual({ ok: true });

  const unreachable = createPrisma("postgresql://nobody@127.0.0.1:1/none", { max: 1 });
  await expect(createCaller(contextFor(unreachable)).system.health()).rejects.toThrow();
  await unreachable.$disconnect();
});

it("refuses sync calls without a principal, saying how to fix it", async () => {
  const createCaller = createCallerFactory(appRouter);
  await expect(createCaller(contextFor(prisma)).sync.pull({ since: 0 })).rejects.toMatchObject({
    code: "UNAUTHORIZED",
    message: expect.stringMatching(/bearer token/),
  });
});
