import { parseSyncError } from "@chorus/protocol";
import { waitUntil } from "@chorus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure, Harness, makeOps } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await Harness.start({ ackFlushIntervalMs: 60_000 });
});
afterAll(async () => {
  await h.close();
});

async function setWatermark(userId: string, compactedUpTo: number): Promise<void> {
  await h.prisma.syncCompactionWatermark.upsert({
    where: { userId },
    create: { userId, compactedUpTo: BigInt(compactedUpTo) },
    update: { compactedUpTo: BigInt(compactedUpTo) },
  });
}

describe("pull", () => {
  it("pages through the user's ops in id order, each exactly once", async () => {
    const writer = await h.createDevice();
    const reader = await h.createDevice(writer.userId);
    const { results } = await writer.http.sync.push.mutate({ ops: makeOps(25, 0) });
    const seen: number[] = [];
    let since = 0;
    let pages = 0;
    for (;;) {
      const page = await reader.http.sync.pull.query({ since, limit: 10 });
      seen.push(...page.ops.map((op) => op.id));
      since = page.nextSince;
      pages++;
      if (!page.hasMore) break;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(results.map((r) => r.id));
    const last = await reader.http.sync.pull.query({ since });
    expect(last).toEqual({ ops: [], nextSince: since, hasMore: false });
  });

  it("returns ops with every field the device wrote", async () => {
    const device = await h.createDevice();
    const ops = makeOps(1, 0);
    await device.http.sync.push.mutate({ ops });
    const page = await device.http.sync.pull.query({ since: 0 });
    expect(page.ops[0]).toMatchObject({ ...ops[0], deviceId: device.deviceId });
    expect(Date.parse(page.ops[0]?.createdAt ?? "")).not.toBeNaN();
  });

  it("fails with resync_required (a 4xx) when 0 < since < watermark; since = 0 always works", async () => {
    const device = await h.createDevice();
    const { results } = await device.http.sync.push.mutate({ ops: makeOps(6, 0) });
    const watermark = results[3]?.id ?? 0;
    await setWatermark(device.userId, watermark);

    const error = await failure(device.http.sync.pull.query({ since: results[1]?.id ?? 0 }));
    expect(error.data).toMatchObject({ code: "PRECONDITION_FAILED", httpStatus: 412 });
    expect(parseSyncError(error)).toEqual({ type: "resync_required", compactedUpTo: watermark });

    expect((await device.http.sync.pull.query({ since: 0 })).ops).toHaveLength(6);
    expect((await device.http.sync.pull.query({ since: watermark })).ops).toHaveLength(2);
  });

  it("pages a full resync from 0 across the watermark with fullResync", async () => {
    const device = await h.createDevice();
    // 25 ops on distinct entities: all of them survive compaction below the watermark.
    const ops = Array.from({ length: 25 }, () => makeOps(1, 0, crypto.randomUUID())[0]).map(
      (op, i) => ({ ...(op as NonNullable<typeof op>), lamportTs: i + 1 }),
    );
    const { results } = await device.http.sync.push.mutate({ ops });
    await setWatermark(device.userId, results[20]?.id as number);

    const first = await device.http.sync.pull.query({ since: 0, limit: 10 });
    // Without the flag the second page of a rebuild is refused…
    const refused = await failure(
      device.http.sync.pull.query({ since: first.nextSince, limit: 10 }),
    );
    expect(parseSyncError(refused)?.type).toBe("resync_required");
    // …with it, the rebuild pages through everything exactly once.
    const seen = [...first.ops.map((op) => op.id)];
    let since = first.nextSince;
    for (;;) {
      const page = await device.http.sync.pull.query({ since, limit: 10, fullResync: true });
      seen.push(...page.ops.map((op) => op.id));
      since = page.nextSince;
      if (!page.hasMore) break;
    }
    expect(seen).toEqual(results.map((r) => r.id));
  });

  it("never writes a cursor", async () => {
    const device = await h.createDevice();
    await device.http.sync.push.mutate({ ops: makeOps(3, 0) });
    await device.http.sync.pull.query({ since: 0 });
    await h.server.services.acks.flush();
    expect(await h.cursorOf(device.deviceId)).toBeNull();
  });
});

describe("ack", () => {
  it("is monotonic: a lower ack never moves the cursor back", async () => {
    const device = await h.createDevice();
    const { results } = await device.http.sync.push.mutate({ ops: makeOps(4, 0) });
    const ids = results.map((r) => r.id);
    expect(await device.http.sync.ack.mutate({ lastSeenId: ids[2] as number })).toEqual({
      lastSeenId: ids[2],
    });
    expect(await device.http.sync.ack.mutate({ lastSeenId: ids[0] as number })).toEqual({
      lastSeenId: ids[2],
    });
    await h.server.services.acks.flush();
    expect(await h.cursorOf(device.deviceId)).toBe(ids[2]);

    // Also in the table: a later flush of a lower value cannot lower it.
    h.server.services.acks.record(device.userId, device.deviceId, ids[1] as number);
    await h.server.services.acks.flush();
    expect(await h.cursorOf(device.deviceId)).toBe(ids[2]);
  });

  it("refuses an id past the user's newest op", async () => {
    const device = await h.createDevice();
    const { maxId } = await device.http.sync.push.mutate({ ops: makeOps(2, 0) });
    const error = await failure(device.http.sync.ack.mutate({ lastSeenId: maxId + 1 }));
    expect(error.data).toMatchObject({ code: "BAD_REQUEST" });
    expect(parseSyncError(error)).toEqual({ type: "ack_beyond_head", newestId: maxId });

    // Another user's newer op ids do not count as this user's head.
    const stranger = await h.createDevice();
    const theirs = await stranger.http.sync.push.mutate({ ops: makeOps(1, 0) });
    const error2 = await failure(device.http.sync.ack.mutate({ lastSeenId: theirs.maxId }));
    expect(parseSyncError(error2)).toEqual({ type: "ack_beyond_head", newestId: maxId });
    await h.server.services.acks.flush();
    expect(await h.cursorOf(device.deviceId)).toBeNull();
  });

  it("is held in memory until a flush, then reaches the table", async () => {
    const device = await h.createDevice();
    const { maxId } = await device.http.sync.push.mutate({ ops: makeOps(2, 0) });
    await device.http.sync.ack.mutate({ lastSeenId: maxId });
    expect(await h.cursorOf(device.deviceId)).toBeNull();
    expect(h.server.services.acks.peek(device.userId)).toMatchObject([{ lastSeenId: maxId }]);
    await h.server.services.acks.flush();
    expect(await h.cursorOf(device.deviceId)).toBe(maxId);
  });

  it("is flushed when the device's socket disconnects", async () => {
    const device = await h.createDevice();
    const { maxId } = await device.http.sync.push.mutate({ ops: makeOps(2, 0) });
    const ws = device.ws();
    await ws.client.sync.ack.mutate({ lastSeenId: maxId });
    expect(await h.cursorOf(device.deviceId)).toBeNull();
    await ws.close();
    await waitUntil(
      "(await h.cursorOf(device.deviceId)) === maxId",
      async () => (await h.cursorOf(device.deviceId)) === maxId,
    );
  });
});

describe("ack buffer timing and shutdown", () => {
  it("flushes on its interval", async () => {
    const fast = await Harness.start({ ackFlushIntervalMs: 200 });
    try {
      const device = await fast.createDevice();
      const { maxId } = await device.http.sync.push.mutate({ ops: makeOps(1, 0) });
      await device.http.sync.ack.mutate({ lastSeenId: maxId });
      await waitUntil(
        "(await fast.cursorOf(device.deviceId)) === maxId",
        async () => (await fast.cursorOf(device.deviceId)) === maxId,
      );
    } finally {
      await fast.close();
    }
  });

  it("flushes on shutdown", async () => {
    const local = await Harness.start({ ackFlushIntervalMs: 60_000 });
    const device = await local.createDevice();
    const { maxId } = await device.http.sync.push.mutate({ ops: makeOps(1, 0) });
    await device.http.sync.ack.mutate({ lastSeenId: maxId });
    await local.server.close();
    const cursor = await local.prisma.deviceSyncCursor.findUnique({
      where: { deviceId: device.deviceId },
    });
    expect(Number(cursor?.lastSeenId)).toBe(maxId);
    await local.prisma.$disconnect();
    await local.db.drop();
  });
});
