import { parseSyncError } from "@chorus/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure, GENEROUS_LIMITS, Harness, makeOps } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await Harness.start({ rateLimits: GENEROUS_LIMITS });
});
afterAll(async () => {
  await h.close();
});

describe("push", () => {
  it("accepts a duplicate operation_id with its original id and stores it once", async () => {
    const device = await h.createDevice();
    const ops = makeOps(3, 0);
    const first = await device.http.sync.push.mutate({ ops });
    expect(first.results.map((r) => r.duplicate)).toEqual([false, false, false]);

    // A retry of the same batch (say its response was lost), then a batch mixing old and new.
    const retry = await device.http.sync.push.mutate({ ops });
    expect(retry.results).toEqual(first.results.map((r) => ({ ...r, duplicate: true })));
    const [newOp] = makeOps(1, 3);
    const mixed = await device.http.sync.push.mutate({ ops: [ops[2], newOp] as typeof ops });
    expect(mixed.results[0]).toEqual({ ...first.results[2], duplicate: true });
    expect(mixed.results[1]?.duplicate).toBe(false);
    expect(mixed.results[1]?.id).toBeGreaterThan(first.maxId);

    expect(await h.opCount(device.userId)).toBe(4);
  });

  it("hands out ids in batch order", async () => {
    const device = await h.createDevice();
    const { results } = await device.http.sync.push.mutate({ ops: makeOps(20, 0) });
    const ids = results.map((r) => r.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it("refuses a Lamport regression with CONFLICT + storedMax and stores nothing of that batch", async () => {
    const device = await h.createDevice();
    await device.http.sync.push.mutate({ ops: makeOps(5, 100) }); // stamps 101..105
    const before = await h.opCount(device.userId);

    // A reset clock: the first new op is at or below the stored maximum.
    const error = await failure(device.http.sync.push.mutate({ ops: makeOps(3, 104) }));
    expect(error.data).toMatchObject({ code: "CONFLICT", httpStatus: 409 });
    expect(parseSyncError(error)).toEqual({ type: "lamport_regression", storedMax: 105 });
    expect(await h.opCount(device.userId)).toBe(before);

    // Re-stamped above storedMax, the same ops go through.
    const ok = await device.http.sync.push.mutate({ ops: makeOps(3, 105) });
    expect(ok.results).toHaveLength(3);
  });

  it("keeps the device's high-water mark even when the row that held it is gone", async () => {
    const device = await h.createDevice();
    await device.http.sync.push.mutate({ ops: makeOps(2, 50) });
    await h.prisma.syncOp.deleteMany({ where: { deviceId: device.deviceId } }); // as compaction may
    const error = await failure(device.http.sync.push.mutate({ ops: makeOps(1, 10) }));
    expect(parseSyncError(error)).toEqual({ type: "lamport_regression", storedMax: 52 });
  });

  it("lets two devices of one user use the same Lamport values", async () => {
    const a = await h.createDevice();
    const b = await h.createDevice(a.userId);
    await a.http.sync.push.mutate({ ops: makeOps(2, 0) });
    await b.http.sync.push.mutate({ ops: makeOps(2, 0) });
    expect(await h.opCount(a.userId)).toBe(4);
  });
});

describe("bad payloads are refused clearly and store nothing", () => {
  it("refuses an HTTP body over 1 MiB with PAYLOAD_TOO_LARGE", async () => {
    const device = await h.createDevice();
    const res = await fetch(`${h.httpUrl}/sync.push`, {
      method: "POST",
      headers: { authorization: `Bearer ${device.token}`, "content-type": "application/json" },
      body: JSON.stringify({ ops: [{ junk: "x".repeat(1_100_000) }] }),
    });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { error: { data: { code: string } } };
    expect(body.error.data.code).toBe("PAYLOAD_TOO_LARGE");
    expect(await h.opCount(device.userId)).toBe(0);
  });

  it("refuses a value over the per-value limit and a batch over the op limit", async () => {
    const device = await h.createDevice();
    const [big] = makeOps(1, 0);
    const tooBig = { ...big, value: "x".repeat(70 * 1024) } as NonNullable<typeof big>;
    const e1 = await failure(device.http.sync.push.mutate({ ops: [tooBig] }));
    expect(e1.data).toMatchObject({ code: "BAD_REQUEST" });
    expect(e1.message).toMatch(/bytes/);

    const e2 = await failure(device.http.sync.push.mutate({ ops: makeOps(501, 0) }));
    expect(e2.data).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(e2.message).toMatch(/over the limit of 500/);
    expect(await h.opCount(device.userId)).toBe(0);
  });

  it("fuzzed push inputs get BAD_REQUEST (or PAYLOAD_TOO_LARGE) and never store anything", async () => {
    const device = await h.createDevice();
    const validOp = fc.record({
      operationId: fc.uuid({ version: 4 }),
      lamportTs: fc.integer({ min: 1, max: 1_000 }),
      entity: fc.constantFrom("playlist", "track"),
      entityId: fc.uuid({ version: 4 }),
      field: fc.constantFrom("name", "title"),
      op: fc.constant("set"),
      value: fc.jsonValue({ maxDepth: 2 }),
    });
    // Each input breaks at least one rule of the protocol.
    const broken = fc.oneof(
      fc.anything(),
      fc.record({ ops: fc.anything() }),
      fc.record({ ops: fc.array(fc.anything(), { minLength: 1, maxLength: 5 }) }),
      validOp.chain((op) =>
        fc.constantFrom(
          { ops: [{ ...op, entity: "Bad Entity!" }] },
          { ops: [{ ...op, operationId: "not-a-uuid" }] },
          { ops: [{ ...op, lamportTs: -1 }] },
          { ops: [{ ...op, lamportTs: 1.5 }] },
          { ops: [{ ...op, lamportTs: Number.MAX_SAFE_INTEGER + 2 }] },
          { ops: [{ ...op, op: "delete" }] }, // a delete with a field
          { ops: [{ ...op, op: "explode" }] },
          { ops: [{ ...op, field: null }] }, // a set without a field
          { ops: [op, op] }, // repeated operationId
          { ops: [] },
          { ops: [{ ...op, entityId: "x".repeat(500) }] },
        ),
      ),
    );
    await fc.assert(
      fc.asyncProperty(broken, async (input) => {
        const res = await fetch(`${h.httpUrl}/sync.push`, {
          method: "POST",
          headers: { authorization: `Bearer ${device.token}`, "content-type": "application/json" },
          body: JSON.stringify(input),
        });
        expect([400, 413]).toContain(res.status);
        const body = (await res.json()) as { error: { message: string; data: { code: string } } };
        expect(["BAD_REQUEST", "PAYLOAD_TOO_LARGE"]).toContain(body.error.data.code);
        expect(body.error.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 150 },
    );
    expect(await h.opCount(device.userId)).toBe(0);
  });

  it("refuses a push without a token, with UNAUTHORIZED", async () => {
    const client = h.clientWithHeader(undefined);
    const error = await failure(client.sync.push.mutate({ ops: makeOps(1, 0) }));
    expect(error.data).toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("does not accept a device id from the input", async () => {
    const device = await h.createDevice();
    const other = await h.createDevice(device.userId);
    const [op] = makeOps(1, 0);
    await device.http.sync.push.mutate({
      ops: [{ ...op, deviceId: other.deviceId } as NonNullable<typeof op>],
    });
    const stored = await h.prisma.syncOp.findFirstOrThrow({
      where: { operationId: op?.operationId },
    });
    expect(stored.deviceId).toBe(device.deviceId);
  });
});
