import { Writable } from "node:stream";
import type { AppRouter } from "@chorus/api";
import { createVerifier, generateSigningKey, mintAccessToken } from "@chorus/auth";
import { createPrisma, type PrismaClient } from "@chorus/db";
import { createTestDatabase, type TestDatabase } from "@chorus/db/testing";
import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSyncServer, type SyncServer } from "../src/server.js";
import { failure, WebSocket } from "./harness.js";

/*
 * A procedure that fails inside the database: the client gets a typed INTERNAL_SERVER_ERROR and
 * a request id, never the database's own text; the log gets the details under the same id.
 */
let db: TestDatabase;
let prisma: PrismaClient;
let server: SyncServer;
let base: string;
let adminToken: string;
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, { max: 4 });
  const key = await generateSigningKey();
  const verifier = await createVerifier({ publicKey: key.publicKey });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) {
        logLines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  server = createSyncServer({
    prisma,
    logger: pino({ level: "error" }, sink),
    verifyToken: (token) => verifier.verify(token),
    ackFlushIntervalMs: 60_000,
  });
  const address = await server.listen(0, "127.0.0.1");
  base = `127.0.0.1:${address.port}`;
  const admin = await prisma.user.create({
    data: { email: "admin@example.test", passwordHash: "x", role: "admin" },
  });
  adminToken = (await mintAccessToken(key, { userId: admin.id, role: "admin", kind: "web" })).token;
  // The compaction history's table disappears: reading it fails inside Prisma.
  await prisma.$executeRawUnsafe(
    'ALTER TABLE "sync_compaction_run" RENAME TO "sync_compaction_run_gone"',
  );
});

afterAll(async () => {
  await server.close();
  await prisma.$disconnect();
  await db.drop();
});

function expectNoDatabaseText(text: string): void {
  expect(text).not.toMatch(
    /sync_compaction_run|prisma|does not exist|relation|postgres|at .*\.ts/i,
  );
}

function loggedWith(requestId: string): Record<string, unknown> | undefined {
  return logLines.find((line) => line.requestId === requestId);
}

describe("internal errors", () => {
  it("database error text does not leak in an HTTP 500 body; a request id does, and the log has it", async () => {
    const response = await fetch(`http://${base}/trpc/admin.compactionRuns?input=%7B%7D`, {
      headers: { authorization: `Bearer ${adminToken}` },
      signal: AbortSignal.timeout(60_000),
    });
    expect(response.status).toBe(500);
    const text = await response.text();
    expectNoDatabaseText(text);
    const body = JSON.parse(text) as {
      error: { message: string; data: { code: string; requestId: string } };
    };
    expect(body.error.data.code).toBe("INTERNAL_SERVER_ERROR");
    expect(body.error.data.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.error.message).toContain(body.error.data.requestId);
    expect(response.headers.get("x-request-id")).toBe(body.error.data.requestId);
    const logged = loggedWith(body.error.data.requestId);
    expect(JSON.stringify(logged)).toMatch(/sync_compaction_run/);
  });

  it("database error text does not leak over the WebSocket either", async () => {
    const raw = createWSClient({
      url: `ws://${base}/trpc`,
      WebSocket,
      connectionParams: () => ({ token: adminToken }),
    });
    try {
      const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: raw })] });
      const error = await failure(client.admin.compactionRuns.query({}));
      expectNoDatabaseText(JSON.stringify({ message: error.message, data: error.data }));
      const data = error.data as unknown as { code: string; requestId: string };
      expect(data.code).toBe("INTERNAL_SERVER_ERROR");
      expect(JSON.stringify(loggedWith(data.requestId))).toMatch(/sync_compaction_run/);
    } finally {
      await raw.close();
    }
  });
});
