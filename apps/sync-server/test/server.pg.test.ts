import type { AppRouter } from "@chorus/api";
import { createPrisma, type PrismaClient } from "@chorus/db";
import { createTestDatabase, type TestDatabase } from "@chorus/db/testing";
import { createTRPCClient, createWSClient, httpBatchLink, wsLink } from "@trpc/client";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket as NodeWebSocket } from "ws";

// Node 20 has no global WebSocket; ws is API-compatible for tRPC's client.
const WebSocket = NodeWebSocket as unknown as typeof globalThis.WebSocket;

import { createSyncServer, type SyncServer } from "../src/server.js";

let db: TestDatabase;
let prisma: PrismaClient;
let server: SyncServer;
let base: string;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, { max: 2 });
  server = createSyncServer({ prisma, logger: pino({ level: "silent" }) });
  const address = await server.listen(0, "127.0.0.1");
  base = `127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await server.close();
  await prisma.$disconnect();
  await db.drop();
});

describe("sync server", () => {
  it("answers /healthz with the database's state", async () => {
    const res = await fetch(`http://${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", database: "ok" });
  });

  it("serves tRPC over HTTP and WebSocket on the same port", async () => {
    const http = createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: `http://${base}/trpc` })],
    });
    expect(await http.system.health.query()).toEqual({ ok: true });

    const wsClient = createWSClient({ url: `ws://${base}/trpc`, WebSocket });
    try {
      const ws = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
      expect(await ws.system.health.query()).toEqual({ ok: true });
    } finally {
      await wsClient.close();
    }
  });

  it("answers unknown paths with 404", async () => {
    expect((await fetch(`http://${base}/nope`)).status).toBe(404);
  });
});

describe("healthz without a database", () => {
  it("reports 503 when the database is unreachable", async () => {
    const broken = createPrisma("postgresql://nobody@127.0.0.1:1/none", { max: 1 });
    const lonely = createSyncServer({ prisma: broken, logger: pino({ level: "silent" }) });
    const address = await lonely.listen(0, "127.0.0.1");
    try {
      const res = await fetch(`http://127.0.0.1:${address.port}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ database: "unreachable" });
    } finally {
      await lonely.close();
      await broken.$disconnect();
    }
  });
});
