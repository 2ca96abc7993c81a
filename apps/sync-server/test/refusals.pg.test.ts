import type { AppRouter } from "@chorus/api";
import { PROTOCOL_VERSION, PROTOCOL_VERSION_HEADER, parseSyncError } from "@chorus/protocol";
import { createTRPCClient, createWSClient, httpLink, wsLink } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure, GENEROUS_LIMITS, Harness, makeOps, WebSocket } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await Harness.start({ rateLimits: GENEROUS_LIMITS });
});
afterAll(async () => {
  await h.close();
});

async function rawPush(token: string, input: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${h.httpUrl}/sync.push`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as {
    error?: { message: string; data: { code: string; syncError: unknown } };
  };
  return { status: res.status, body };
}

describe("strings PostgreSQL cannot store", () => {
  const LONE_HIGH = "\uD83D";
  const LONE_LOW = "\uDE00";
  const poisons: Array<[string, (op: ReturnType<typeof makeOps>[number]) => unknown]> = [
    ["U+0000 in an entity id", (op) => ({ ...op, entityId: `id\u0000x` })],
    ["a lone surrogate in an entity id", (op) => ({ ...op, entityId: `id${LONE_HIGH}` })],
    ["U+0000 in a value (a playlist name)", (op) => ({ ...op, value: `Mix\u0000` })],
    ["a lone surrogate in a value", (op) => ({ ...op, value: `Mix ${LONE_LOW}` })],
    [
      "a lone surrogate deep in a value",
      (op) => ({ ...op, value: { a: [1, { b: `x${LONE_HIGH}y` }] } }),
    ],
    ["U+0000 in an object key of a value", (op) => ({ ...op, value: { "k\u0000": 1 } })],
  ];

  it.each(poisons)(
    "a push with %s is a typed 400 naming the op, not a 500; nothing stored",
    async (_name, poison) => {
      const device = await h.createDevice();
      const [good, bad] = makeOps(2, 0);
      const { status, body } = await rawPush(device.token, {
        ops: [good, poison(bad as NonNullable<typeof bad>)],
      });
      expect(status).toBe(400);
      expect(body.error?.data.code).toBe("BAD_REQUEST");
      const refusal = parseSyncError(body.error?.data.syncError);
      expect(refusal?.type).toBe("invalid_input");
      expect(refusal?.type === "invalid_input" && refusal.issues[0]?.path.slice(0, 2)).toEqual([
        "ops",
        1,
      ]);
      expect(await h.opCount(device.userId)).toBe(0);
      // The server is fine afterwards: a clean push goes through.
      await device.http.sync.push.mutate({ ops: makeOps(1, 10) });
      expect(await h.opCount(device.userId)).toBe(1);
    },
  );

  it("well-formed text of every plane is stored and read back unchanged", async () => {
    const device = await h.createDevice();
    const text = "a\u00e9\u4e2d\uD83D\uDE00\uFFFD\u200D\t\n";
    const [op] = makeOps(1, 0);
    await device.http.sync.push.mutate({
      ops: [{ ...(op as NonNullable<typeof op>), entityId: text, value: { [text]: text } }],
    });
    const page = await device.http.sync.pull.query({ since: 0 });
    expect(page.ops[0]?.entityId).toBe(text);
    expect(page.ops[0]?.value).toEqual({ [text]: text });
  });
});

describe("a batch over the push limits", () => {
  it("over MAX_BATCH_BYTES is refused with the typed payload_too_large (413), not BAD_REQUEST", async () => {
    const device = await h.createDevice();
    // 12 ops of ~50 KB: each value is within its limit, the batch (~600 KB) is not.
    const ops = makeOps(12, 0).map((op) => ({ ...op, value: "x".repeat(50_000) }));
    const error = await failure(device.http.sync.push.mutate({ ops }));
    expect(error.data).toMatchObject({ code: "PAYLOAD_TOO_LARGE", httpStatus: 413 });
    const refusal = parseSyncError(error);
    expect(refusal).toMatchObject({ type: "payload_too_large", limit: 512 * 1024 });
    expect(refusal?.type === "payload_too_large" && refusal.actual).toBeGreaterThan(512 * 1024);
    expect(await h.opCount(device.userId)).toBe(0);
  });

  it("over MAX_OPS_PER_BATCH and over the HTTP body limit are typed payload_too_large too", async () => {
    const device = await h.createDevice();
    const count = await failure(device.http.sync.push.mutate({ ops: makeOps(501, 0) }));
    expect(parseSyncError(count)).toEqual({ type: "payload_too_large", limit: 500, actual: 501 });

    const huge = await rawPush(device.token, { ops: [{ junk: "x".repeat(1_100_000) }] });
    expect(huge.status).toBe(413);
    expect(parseSyncError(huge.body.error?.data.syncError)).toMatchObject({
      type: "payload_too_large",
      limit: 1024 * 1024,
    });
    expect(await h.opCount(device.userId)).toBe(0);
  });
});

describe("protocol version", () => {
  function clientStating(token: string, version: string | undefined) {
    return createTRPCClient<AppRouter>({
      links: [
        httpLink({
          url: h.httpUrl,
          headers: {
            authorization: `Bearer ${token}`,
            ...(version === undefined ? {} : { [PROTOCOL_VERSION_HEADER]: version }),
          },
        }),
      ],
    });
  }

  it("a client stating the current version, or none (a client from before the header), is served", async () => {
    const device = await h.createDevice();
    await clientStating(device.token, String(PROTOCOL_VERSION)).sync.push.mutate({
      ops: makeOps(1, 0),
    });
    await clientStating(device.token, undefined).sync.push.mutate({ ops: makeOps(1, 1) });
    expect(await h.opCount(device.userId)).toBe(2);
  });

  it.each([
    ["newer than the server", String(PROTOCOL_VERSION + 1)],
    ["older than the server serves", "0"],
    ["not a number", "v1"],
  ])(
    "a client %s gets the typed upgrade_required over HTTP and stores nothing",
    async (_name, version) => {
      const device = await h.createDevice();
      const error = await failure(
        clientStating(device.token, version).sync.push.mutate({ ops: makeOps(1, 0) }),
      );
      expect(error.data).toMatchObject({ code: "PRECONDITION_REQUIRED", httpStatus: 428 });
      expect(parseSyncError(error)).toMatchObject({
        type: "upgrade_required",
        minVersion: 1,
        maxVersion: PROTOCOL_VERSION,
      });
      expect(await h.opCount(device.userId)).toBe(0);
    },
  );

  it("a WebSocket client stating a version the server does not serve gets upgrade_required", async () => {
    const device = await h.createDevice();
    const raw = createWSClient({
      url: `ws://${h.base}/trpc`,
      WebSocket,
      connectionParams: () => ({ token: device.token, protocol: String(PROTOCOL_VERSION + 1) }),
      retryDelayMs: () => 100,
    });
    try {
      const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: raw })] });
      const refused = await new Promise<unknown>((resolve) => {
        const sub = client.sync.subscribe.subscribe(
          {},
          {
            onData: () => resolve(new Error("data on a refused subscription")),
            onError: (error) => {
              sub.unsubscribe();
              resolve(error);
            },
          },
        );
      });
      expect(parseSyncError(refused)).toMatchObject({
        type: "upgrade_required",
        clientVersion: PROTOCOL_VERSION + 1,
      });
    } finally {
      await raw.close();
    }
  });

  it("every procedure applies the rule, queries included", async () => {
    const device = await h.createDevice();
    const error = await failure(clientStating(device.token, "999").sync.pull.query({ since: 0 }));
    expect(parseSyncError(error)?.type).toBe("upgrade_required");
  });
});
