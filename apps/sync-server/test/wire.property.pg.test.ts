import type { AppRouter } from "@chorus/api";
import { type TRPCClient, TRPCClientError } from "@trpc/client";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENEROUS_LIMITS, Harness, type TestDevice } from "./harness.js";

/*
 * The wire, fuzzed: arbitrary JSON and arbitrary UTF-16 (U+0000, lone surrogates, astral
 * characters) pushed through tRPC over HTTP and over the WebSocket to a real server. Whatever
 * comes in: never a 5xx, a refusal stores nothing, an acceptance stores exactly what was sent,
 * and /healthz stays ok. Runs are bounded so the file takes seconds.
 */

let h: Harness;
beforeAll(async () => {
  h = await Harness.start({ rateLimits: GENEROUS_LIMITS });
});
afterAll(async () => {
  await h.close();
});

/** One UTF-16 code unit of any value, with the troublesome ones made likely. */
const unit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  fc.constantFrom("\u0000", "\uD83D", "\uDE00", "\uD83D\uDE00", "\uFFFD", "a", "_", "é"),
);
const text = fc.string({ unit, maxLength: 12 });
const json = fc.jsonValue({ maxDepth: 3, stringUnit: unit });

/** Ops that are well-formed in shape, with arbitrary strings and values where the rules allow. */
const op = fc.record({
  operationId: fc.uuid({ version: 4 }),
  entity: fc.oneof(fc.constantFrom("playlist", "track"), text),
  entityId: fc.oneof(fc.uuid({ version: 4 }), text),
  field: fc.oneof(fc.constantFrom("name", "title", null), text),
  op: fc.constantFrom("set", "insert", "delete", "noop"),
  value: fc.oneof(fc.constant(null), json, fc.dictionary(text, json, { maxKeys: 3 })),
});
/** A push body: mostly op batches (Lamport timestamps are added when sent), sometimes anything. */
const pushBody = fc.oneof(
  { weight: 4, arbitrary: fc.array(op, { minLength: 1, maxLength: 4 }).map((ops) => ({ ops })) },
  { weight: 1, arbitrary: json },
);

let lamport = 0;
/** Stamps increasing Lamport timestamps on an op batch, so well-formed ones can be accepted. */
function stamped(body: unknown): unknown {
  const ops = (body as { ops?: unknown })?.ops;
  if (!Array.isArray(ops)) return body;
  return { ops: ops.map((o) => ({ ...(o as object), lamportTs: ++lamport })) };
}

async function healthy(): Promise<void> {
  const res = await fetch(`http://${h.base}/healthz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ status: "ok" });
}

/** The ops stored for the device's user after `since`, as pull returns them. */
async function storedAfter(device: TestDevice, since: number) {
  const page = await device.http.sync.pull.query({ since, limit: 1000 });
  return page.ops;
}

/**
 * Checks what an accepted push stored against what was sent: the fresh ops, in order, with
 * their strings and values exactly as sent (JSON round trip: key order aside).
 */
async function expectStoredAsSent(
  device: TestDevice,
  sent: unknown,
  since: number,
  results: Array<{ duplicate: boolean }>,
): Promise<void> {
  const ops = (JSON.parse(JSON.stringify(sent)) as { ops: Array<Record<string, unknown>> }).ops;
  const fresh = ops.filter((_, i) => !results[i]?.duplicate);
  const stored = await storedAfter(device, since);
  expect(stored).toHaveLength(fresh.length);
  stored.forEach((row, i) => {
    const input = fresh[i] as Record<string, unknown>;
    expect(row.operationId).toBe(input.operationId);
    expect(row.entityId).toBe(input.entityId);
    expect(row.field).toBe(input.field);
    expect(row.value).toEqual(input.value);
  });
}

describe("fuzzing the wire", () => {
  it("over HTTP: push and ack bodies of any JSON never get a 5xx; refusals store nothing", async () => {
    const device = await h.createDevice();
    let newest = 0;
    await fc.assert(
      fc.asyncProperty(pushBody, json, async (body, ackBody) => {
        const before = await h.opCount(device.userId);
        const sent = stamped(body);
        const res = await fetch(`${h.httpUrl}/sync.push`, {
          method: "POST",
          headers: { authorization: `Bearer ${device.token}`, "content-type": "application/json" },
          body: JSON.stringify(sent),
        });
        expect(res.status).toBeLessThan(500);
        const answer = (await res.json()) as {
          result?: { data: { results: Array<{ duplicate: boolean }>; maxId: number } };
          error?: { message: string; data: { code: string } };
        };
        if (res.status === 200 && answer.result) {
          await expectStoredAsSent(device, sent, newest, answer.result.data.results);
          newest = Math.max(newest, answer.result.data.maxId);
        } else {
          expect(answer.error?.message.length).toBeGreaterThan(0);
          expect(await h.opCount(device.userId)).toBe(before);
        }
        const ack = await fetch(`${h.httpUrl}/sync.ack`, {
          method: "POST",
          headers: { authorization: `Bearer ${device.token}`, "content-type": "application/json" },
          body: JSON.stringify(ackBody),
        });
        expect(ack.status).toBeLessThan(500);
        await healthy();
      }),
      { numRuns: 80 },
    );
  });

  it("over the WebSocket: pushes of any JSON never get a server error; refusals store nothing", async () => {
    const device = await h.createDevice();
    const ws = device.ws();
    let newest = 0;
    try {
      await fc.assert(
        fc.asyncProperty(pushBody, async (body) => {
          const before = await h.opCount(device.userId);
          const sent = stamped(body);
          const client = ws.client as TRPCClient<AppRouter>;
          const outcome = await client.sync.push.mutate(sent as never).then(
            (result) => ({ ok: true as const, result }),
            (error: unknown) => ({ ok: false as const, error }),
          );
          if (outcome.ok) {
            await expectStoredAsSent(device, sent, newest, outcome.result.results);
            newest = Math.max(newest, outcome.result.maxId);
          } else {
            expect(outcome.error).toBeInstanceOf(TRPCClientError);
            const data = (outcome.error as TRPCClientError<AppRouter>).data;
            expect(data?.httpStatus).toBeLessThan(500);
            expect(await h.opCount(device.userId)).toBe(before);
          }
        }),
        { numRuns: 60 },
      );
      await healthy();
    } finally {
      await ws.close();
    }
  });

  it("strings stored as text elsewhere (a device's name, the console's searches) are refused, not a 5xx", async () => {
    const device = await h.createDevice();
    const admin = await h.webClient(await h.createUser(), "admin");
    const owner = await h.webClient(device.userId, "user");
    await fc.assert(
      fc.asyncProperty(text, async (name) => {
        const calls = [
          () => owner.devices.rename.mutate({ deviceId: device.deviceId, name }),
          () => admin.admin.users.query({ search: name }),
          () => admin.admin.devices.query({ search: name }),
        ];
        for (const call of calls) {
          const error = await call().then(
            () => null,
            (e: unknown) => e,
          );
          if (error === null) continue;
          expect(error).toBeInstanceOf(TRPCClientError);
          expect((error as TRPCClientError<AppRouter>).data?.httpStatus).toBeLessThan(500);
        }
      }),
      { numRuns: 60 },
    );
    await healthy();
  });
});
