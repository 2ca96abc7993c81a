import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compactUser, DAY_MS } from "../../src/compaction/compact-user.js";
import { ApiTestbed, setOp } from "../support.js";

let t: ApiTestbed;
beforeAll(async () => {
  t = await ApiTestbed.start();
});
afterAll(async () => {
  await t.close();
});

const settings = () => ({ staleWindowMs: 90 * DAY_MS, batchSize: 1_000, now: t.clock });

/** A user with a laptop and a desktop, 10 writes to one field, both cursors stored today. */
async function twoDevices() {
  const userId = await t.user();
  const laptop = await t.device(userId, "laptop");
  const desktop = await t.device(userId, "desktop");
  const entity = randomUUID();
  const ids = await t.push(
    userId,
    desktop,
    Array.from({ length: 10 }, (_, i) => setOp(entity, "name", `v${i}`)),
  );
  return { userId, laptop, desktop, ids };
}

describe("who holds compaction back", () => {
  it("a device that ACKed seconds ago is not stale even if its stored row is 91 days old", async () => {
    const { userId, laptop, desktop, ids } = await twoDevices();
    await t.storedCursor(userId, laptop, ids[2] as number); // stored today…
    await t.storedCursor(userId, desktop, ids[9] as number);
    t.advanceDays(91); // …which is now 91 days ago
    await t.storedCursor(userId, desktop, ids[9] as number); // the desktop synced recently
    t.acks.record(userId, laptop, ids[4] as number); // the laptop just ACKed: buffered only

    const result = await compactUser(t.prisma, t.acks, userId, settings());
    // MIN is the laptop's buffered cursor: with the stored row alone the laptop would be
    // stale and MIN would be the desktop's ids[9].
    expect(result.watermarkAfter).toBe(ids[4]);
    // And the buffered ACK was written in the same transaction.
    const cursor = await t.prisma.deviceSyncCursor.findUniqueOrThrow({
      where: { deviceId: laptop },
    });
    expect(Number(cursor.lastSeenId)).toBe(ids[4]);
    expect(cursor.lastSeenAt.getTime()).toBe(t.nowMs);
  });

  it("a device without a cursor counts as 0 until it is stale", async () => {
    const { userId, desktop, ids } = await twoDevices();
    await t.storedCursor(userId, desktop, ids[9] as number);
    const before = await compactUser(t.prisma, t.acks, userId, settings());
    expect(before.watermarkAfter).toBe(0);
    expect(before.opsDeleted).toBe(0);

    t.advanceDays(91);
    await t.storedCursor(userId, desktop, ids[9] as number);
    const after = await compactUser(t.prisma, t.acks, userId, settings());
    expect(after.watermarkAfter).toBe(ids[9]);
    // ids[0..8] lie below MIN; one field written nine times there keeps its newest, ids[8].
    expect(after.opsDeleted).toBe(8);
  });

  it("excludes a stale device, which then gets resync_required from pull and subscribe", async () => {
    const { userId, laptop, desktop, ids } = await twoDevices();
    await t.storedCursor(userId, laptop, ids[1] as number);
    t.advanceDays(91);
    await t.storedCursor(userId, desktop, ids[8] as number);

    const result = await compactUser(t.prisma, t.acks, userId, settings());
    expect(result.watermarkAfter).toBe(ids[8]);

    const caller = t.callerFor(userId, laptop);
    await expect(caller.sync.pull({ since: ids[1] as number })).rejects.toMatchObject({
      code: "PRECONDITION_FAILED",
      cause: { syncError: { type: "resync_required", compactedUpTo: ids[8] } },
    });
    const stream = await caller.sync.subscribe({ lastEventId: ids[1] as number });
    const iterator = (stream as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toMatchObject({ code: "PRECONDITION_FAILED" });
    // A full pull from 0 still works: that is how the device rebuilds.
    const full = await caller.sync.pull({ since: 0, limit: 100 });
    // Below MIN = ids[8] only the field's newest write (v7) survives; from MIN on nothing changes.
    expect(full.ops.map((op) => op.value)).toEqual(["v7", "v8", "v9"]);
  });

  it("ignores revoked devices and never lowers the watermark", async () => {
    const { userId, laptop, desktop, ids } = await twoDevices();
    await t.storedCursor(userId, laptop, ids[0] as number);
    await t.storedCursor(userId, desktop, ids[6] as number);
    await t.prisma.device.update({ where: { id: laptop }, data: { revokedAt: t.clock() } });
    expect((await compactUser(t.prisma, t.acks, userId, settings())).watermarkAfter).toBe(ids[6]);

    // A new device appears with no cursor: MIN drops to 0, the watermark stays.
    await t.device(userId, "new laptop");
    const again = await compactUser(t.prisma, t.acks, userId, settings());
    expect(again.watermarkAfter).toBe(ids[6]);
    expect(await t.watermark(userId)).toBe(ids[6]);
  });
});
