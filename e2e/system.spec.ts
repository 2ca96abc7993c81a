import { expect, test } from "@playwright/test";

const SYNC_PORT = Number(process.env.E2E_SYNC_PORT ?? 4100);

test("the sync server is healthy and its database reachable", async ({ request }) => {
  const res = await request.get(`http://127.0.0.1:${SYNC_PORT}/healthz`);
  expect(res.status()).toBe(200);
  expect(await res.json()).toEqual({ status: "ok", database: "ok" });
});
