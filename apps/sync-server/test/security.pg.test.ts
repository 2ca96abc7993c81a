import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
});
afterAll(async () => {
  await h.close();
});

/** A bounded fetch: a request that hangs fails the test instead of the run. */
function fetchWithin(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
}

describe("subscriptions run over the WebSocket only", () => {
  const input = encodeURIComponent(JSON.stringify({ lastEventId: 0 }));

  it.each([
    ["as server-sent events", { accept: "text/event-stream" }],
    ["as a plain HTTP answer (buffered until the stream ends)", {}],
  ])("subscription over plain HTTP is refused %s, nothing streamed", async (_, headers) => {
    const device = await h.createDevice();
    const response = await fetchWithin(`${h.httpUrl}/sync.subscribe?input=${input}`, {
      headers: { ...headers, authorization: `Bearer ${device.token}` },
    });
    expect(response.status).toBe(405);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await response.json()) as { error: { message: string; data: unknown } };
    expect(body.error.data).toMatchObject({
      code: "METHOD_NOT_SUPPORTED",
      httpStatus: 405,
      path: "sync.subscribe",
    });
    expect(body.error.message).toMatch(/WebSocket/);
  });

  it("subscription over plain HTTP is refused inside a batch too", async () => {
    const device = await h.createDevice();
    const batch = encodeURIComponent(JSON.stringify({ 0: {}, 1: { lastEventId: 0 } }));
    const response = await fetchWithin(
      `${h.httpUrl}/system.health,sync.subscribe?batch=1&input=${batch}`,
      { headers: { authorization: `Bearer ${device.token}` } },
    );
    expect(response.status).toBe(405);
  });

  it("the console's live feed is refused over plain HTTP as well", async () => {
    const response = await fetchWithin(`${h.httpUrl}/admin.live`, {
      headers: { accept: "text/event-stream" },
    });
    expect(response.status).toBe(405);
    expect(await response.text()).not.toMatch(/^data:/m);
  });
});
