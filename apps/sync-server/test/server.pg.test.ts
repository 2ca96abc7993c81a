import { createPrisma } from "@chorus/db";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSyncServer } from "../src/server.js";
import { Harness, TEST_WEB_ORIGIN } from "./harness.js";

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

  it("lets the web app's origin call it from a browser, and no other origin", async () => {
    const preflight = await fetch(`http://${h.base}/trpc/devices.list`, {
      method: "OPTIONS",
      headers: { origin: TEST_WEB_ORIGIN, "access-control-request-method": "GET" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(TEST_WEB_ORIGIN);
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/authorization/);

    const stranger = await fetch(`http://${h.base}/trpc/devices.list`, {
      method: "OPTIONS",
      headers: { origin: "http://evil.example", "access-control-request-method": "GET" },
    });
    expect(stranger.headers.get("access-control-allow-origin")).toBeNull();
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
