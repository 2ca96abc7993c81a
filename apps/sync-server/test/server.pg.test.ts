import { createPrisma } from "@chorus/db";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSyncServer } from "../src/server.js";
import { Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
});
afterAll(async () => {
  await h.close();
});

describe("sync server", () => {
  it("answers /healthz with the database's state", async () => {
    const res = await fetch(`http://${h.base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", database: "ok" });
  });

  it("serves tRPC over HTTP and WebSocket on the same port", async () => {
    const device = await h.createDevice();
    expect(await device.http.system.health.query()).toEqual({ ok: true });
    const ws = device.ws();
    expect(await ws.client.system.health.query()).toEqual({ ok: true });
    expect(await ws.client.sync.pull.query({ since: 0 })).toEqual({
      ops: [],
      nextSince: 0,
      hasMore: false,
    });
  });

  it("answers unknown paths with 404", async () => {
    expect((await fetch(`http://${h.base}/nope`)).status).toBe(404);
  });
});

describe("healthz without a database", () => {
  it("reports 503 when the database is unreachable", async () => {
    const broken = createPrisma("postgresql://nobody@127.0.0.1:1/none", { max: 1 });
    const lonely = createSyncServer({
      prisma: broken,
      logger: pino({ level: "silent" }),
      verifyToken: () => Promise.reject(new Error("no keys")),
    });
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
