import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import { MAX_OPS_PER_BATCH, PROTOCOL_VERSION_HEADER } from "@chorus/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_HTTP_BODY } from "../src/server.js";
import { GENEROUS_LIMITS, Harness, makeOps, TEST_WEB_ORIGIN, type TestDevice } from "./harness.js";

/*
 * A single HTTP mutation is answered by the server's own path (src/single-call.ts), not by tRPC's
 * handler. The same call is sent both ways on one server — `/trpc/<name>` takes the single-call
 * path, `/trpc/<name>?via=trpc` (any query string) is left to tRPC — and the answers must be the
 * same: status, content-type, vary, x-request-id, and the JSON body (request ids aside).
 */
let h: Harness;
beforeAll(async () => {
  h = await Harness.start({ rateLimits: GENEROUS_LIMITS });
});
afterAll(async () => {
  await h.close();
});

interface Answer {
  status: number;
  contentType: string | null;
  vary: string | null;
  allowOrigin: string | null;
  requestId: boolean;
  body: unknown;
}

async function call(
  path: string,
  input: unknown,
  options: { tRPC: boolean; token?: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  const res = await fetch(`${h.httpUrl}/${path}${options.tRPC ? "?via=trpc" : ""}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body ?? JSON.stringify(input),
  });
  const text = await res.text();
  const requestId = res.headers.get("x-request-id");
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    vary: res.headers.get("vary"),
    allowOrigin: res.headers.get("access-control-allow-origin"),
    requestId: requestId !== null,
    // An internal error's id is new on every call; everything else must match.
    body: JSON.parse(requestId ? text.replaceAll(requestId, "<request id>") : text),
  };
}

/** A call on the single-call path as raw bytes: the answer's head lines (Date masked), its body. */
function rawCall(
  path: string,
  input: unknown,
  headers: Record<string, string>,
): Promise<{ head: string[]; body: string }> {
  const { hostname, port } = new URL(h.httpUrl);
  const body = JSON.stringify(input);
  const request = [
    `POST /trpc/${path} HTTP/1.1`,
    `host: ${hostname}:${port}`,
    "content-type: application/json",
    `content-length: ${Buffer.byteLength(body)}`,
    "connection: close",
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    "",
    body,
  ].join("\r\n");
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString();
      const end = text.indexOf("\r\n\r\n");
      const head = text
        .slice(0, end)
        .split("\r\n")
        .map((line) => (line.startsWith("Date: ") ? "Date: <date>" : line));
      resolve({ head, body: text.slice(end + 4) });
    });
  });
}

/** The answers of tRPC's handler and of the single-call path to the same call. */
async function both(
  path: string,
  input: unknown,
  options: Parameters<typeof call>[2] extends infer O ? Omit<O & object, "tRPC"> : never,
) {
  const viaTRPC = await call(path, input, { ...options, tRPC: true });
  const direct = await call(path, input, { ...options, tRPC: false });
  return { viaTRPC, direct };
}

describe("a single HTTP mutation answered without tRPC's handler", () => {
  let device: TestDevice;
  beforeAll(async () => {
    device = await h.createDevice();
  });

  it("a push is stored once and answered as tRPC answers it; its retry is a duplicate both ways", async () => {
    const ops = makeOps(3, 0);
    const first = await call("sync.push", { ops }, { tRPC: false, token: device.token });
    expect(first.status).toBe(200);
    expect(first.contentType).toBe("application/json");
    expect(first.vary).toBe("trpc-accept, accept");
    const stored = (first.body as { result: { data: { results: { duplicate: boolean }[] } } })
      .result.data.results;
    expect(stored.map((r) => r.duplicate)).toEqual([false, false, false]);
    expect(await h.opCount(device.userId)).toBe(3);

    const { viaTRPC, direct } = await both("sync.push", { ops }, { token: device.token });
    expect(direct).toEqual(viaTRPC);
    expect(
      (direct.body as { result: { data: { results: { duplicate: boolean }[] } } }).result.data
        .results,
    ).toEqual(
      (first.body as { result: { data: { results: unknown[] } } }).result.data.results.map((r) => ({
        ...(r as object),
        duplicate: true,
      })),
    );
    expect(await h.opCount(device.userId)).toBe(3);
  });

  it("an ACK is answered alike", async () => {
    const { viaTRPC, direct } = await both("sync.ack", { lastSeenId: 0 }, { token: device.token });
    expect(viaTRPC.status).toBe(200);
    expect(direct).toEqual(viaTRPC);
  });

  const refusals: Array<
    [
      string,
      () => Promise<{
        path: string;
        input: unknown;
        options: Omit<Parameters<typeof call>[2], "tRPC">;
      }>,
    ]
  > = [
    ["no token", async () => ({ path: "sync.push", input: { ops: makeOps(1) }, options: {} })],
    [
      "a token that is not one",
      async () => ({ path: "sync.push", input: { ops: makeOps(1) }, options: { token: "nope" } }),
    ],
    [
      "a web token on a device procedure",
      async () => ({
        path: "sync.push",
        input: { ops: makeOps(1) },
        options: { token: await h.webClientToken(device.userId) },
      }),
    ],
    [
      "a revoked device",
      async () => {
        const revoked = await h.createDevice(device.userId);
        await device.http.devices.revoke.mutate({ deviceId: revoked.deviceId });
        return { path: "sync.push", input: { ops: makeOps(1) }, options: { token: revoked.token } };
      },
    ],
    [
      "an unserved protocol version",
      async () => ({
        path: "sync.push",
        input: { ops: makeOps(1) },
        options: { token: device.token, headers: { [PROTOCOL_VERSION_HEADER]: "999" } },
      }),
    ],
    [
      "input the schema refuses",
      async () => ({
        path: "sync.push",
        input: { ops: [{ ...makeOps(1)[0], lamportTs: -1 }] },
        options: { token: device.token },
      }),
    ],
    [
      "a batch over the op limit",
      async () => ({
        path: "sync.push",
        input: { ops: makeOps(MAX_OPS_PER_BATCH + 1) },
        options: { token: device.token },
      }),
    ],
    [
      "a Lamport regression",
      async () => ({
        path: "sync.push",
        input: { ops: [{ ...makeOps(1)[0], lamportTs: 1 }] },
        options: { token: device.token },
      }),
    ],
    [
      "an ACK past the head",
      async () => ({
        path: "sync.ack",
        input: { lastSeenId: 1e9 },
        options: { token: device.token },
      }),
    ],
    [
      "a body over the server's bound on request bodies",
      async () => ({
        path: "sync.push",
        input: { ops: makeOps(1), pad: "x".repeat(MAX_HTTP_BODY + 1) },
        options: { token: device.token },
      }),
    ],
    [
      "a body that is not JSON",
      async () => ({ path: "sync.push", input: null, options: { token: device.token, body: "{" } }),
    ],
  ];

  it("a call from the web app's origin (CORS) is answered alike", async () => {
    const token = await h.webClientToken(device.userId);
    const { viaTRPC, direct } = await both(
      "devices.rename",
      { deviceId: device.deviceId, name: "Renamed" },
      { token, headers: { origin: TEST_WEB_ORIGIN } },
    );
    expect(viaTRPC.status).toBe(200);
    expect(viaTRPC.allowOrigin).toBe(TEST_WEB_ORIGIN);
    expect(direct).toEqual(viaTRPC);
  });

  it("writes the same bytes as before: status line, header lines in order, body", async () => {
    // The single-call path writes its answer itself (ADR 0039); these are the lines it wrote
    // when its answer went through setHeader and sendInOneWrite. Date is masked.
    const fresh = await h.createDevice();
    const ops = makeOps(1, 0);
    const pushed = await rawCall("sync.push", { ops }, { authorization: `Bearer ${fresh.token}` });
    const pushedData = (JSON.parse(pushed.body) as { result: { data: unknown } }).result.data;
    expect(pushed.head).toEqual([
      "HTTP/1.1 200 OK",
      "vary: trpc-accept, accept",
      "content-type: application/json",
      `content-length: ${Buffer.byteLength(pushed.body)}`,
      "Date: <date>",
      "Connection: close",
    ]);
    expect(pushed.body).toBe(JSON.stringify({ result: { data: pushedData } }));
    const refused = await rawCall("sync.push", { ops }, {});
    expect(refused.head).toEqual([
      "HTTP/1.1 401 Unauthorized",
      "vary: trpc-accept, accept",
      "content-type: application/json",
      `content-length: ${Buffer.byteLength(refused.body)}`,
      "Date: <date>",
      "Connection: close",
    ]);
    const token = await h.webClientToken(fresh.userId);
    const cors = await rawCall(
      "devices.rename",
      { deviceId: fresh.deviceId, name: "Renamed again" },
      { authorization: `Bearer ${token}`, origin: TEST_WEB_ORIGIN },
    );
    expect(cors.head).toEqual([
      "HTTP/1.1 200 OK",
      `access-control-allow-origin: ${TEST_WEB_ORIGIN}`,
      "vary: trpc-accept, accept",
      `access-control-allow-headers: authorization, content-type, trpc-accept, x-trpc-source, ${PROTOCOL_VERSION_HEADER}`,
      "access-control-allow-methods: GET, POST, OPTIONS",
      "access-control-max-age: 600",
      "content-type: application/json",
      `content-length: ${Buffer.byteLength(cors.body)}`,
      "Date: <date>",
      "Connection: close",
    ]);
  });

  it.each(refusals)("refused the same way both ways: %s", async (_name, setup) => {
    const before = await h.opCount(device.userId);
    const { path, input, options } = await setup();
    const { viaTRPC, direct } = await both(path, input, options);
    expect(viaTRPC.status).toBeGreaterThanOrEqual(400);
    expect(direct).toEqual(viaTRPC);
    expect(await h.opCount(device.userId)).toBe(before);
  });

  it("an internal error is answered alike, with its request id (the details stay in the log)", async () => {
    const owner = await h.createUser();
    const admin = await h.webClientToken(owner, "admin");
    // The devices table disappears: revoking fails inside the database.
    await h.prisma.$executeRawUnsafe('ALTER TABLE "devices" RENAME TO "devices_gone"');
    try {
      const { viaTRPC, direct } = await both(
        "devices.revoke",
        { deviceId: randomUUID() },
        { token: admin },
      );
      expect(viaTRPC.status).toBe(500);
      expect(viaTRPC.requestId).toBe(true);
      expect(direct).toEqual(viaTRPC);
    } finally {
      await h.prisma.$executeRawUnsafe('ALTER TABLE "devices_gone" RENAME TO "devices"');
    }
  });
});
