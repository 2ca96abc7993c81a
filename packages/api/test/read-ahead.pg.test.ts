import { parseSyncError } from "@chorus/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices } from "../src/index.js";
import { ApiTestbed, setOp } from "./support.js";

let bed: ApiTestbed;
let services: ReturnType<typeof createServices>;
beforeAll(async () => {
  bed = await ApiTestbed.start();
  services = createServices({ prisma: bed.prisma });
});
afterAll(async () => {
  await services?.stop();
  await bed?.close();
});

/** A user with one device and `count` ops on distinct entities (none superseded). */
async function account(count: number) {
  const userId = await bed.user();
  const deviceId = await bed.device(userId);
  const ids = await bed.push(
    userId,
    deviceId,
    Array.from({ length: count }, (_, i) => setOp(`e${i}-${userId}`, "name", `v${i}`)),
  );
  return { userId, deviceId, ids, caller: bed.callerFor(userId, deviceId, services) };
}

describe("full resync pages read ahead (ADR 0045)", () => {
  it("a full resync gets every op once, in order, ops pushed while it pages included", async () => {
    const { userId, deviceId, ids, caller } = await account(25);
    const first = await caller.sync.pull({ since: 0, limit: 10, fullResync: true });
    // The next page is read and held before it is asked for.
    expect(services.resyncPages?.size).toBe(1);
    const later = await bed.push(
      userId,
      deviceId,
      Array.from({ length: 5 }, (_, i) => setOp(`late${i}-${userId}`, "name", `late ${i}`)),
    );
    const seen = first.ops.map((op) => op.id);
    let since = first.nextSince;
    for (;;) {
      const page = await caller.sync.pull({ since, limit: 10, fullResync: true });
      seen.push(...page.ops.map((op) => op.id));
      since = page.nextSince;
      if (!page.hasMore) break;
    }
    expect(seen).toEqual([...ids, ...later]);
    expect(services.resyncPages?.size).toBe(0);
  });

  it("a page held for one user is never answered to another at the same position", async () => {
    const a = await account(25);
    const b = await account(15);
    const first = await a.caller.sync.pull({ since: 0, limit: 10, fullResync: true });
    // B asks from the very position A's next page was read ahead at.
    const page = await b.caller.sync.pull({ since: first.nextSince, limit: 10, fullResync: true });
    expect(page.ops.map((op) => op.id)).toEqual(b.ids.slice(0, 10));
    expect(page.ops.every((op) => op.entityId.endsWith(b.userId))).toBe(true);
  });

  it("a pull that is not a full resync never takes a held page: the watermark is still checked", async () => {
    const { userId, ids, caller } = await account(25);
    const first = await caller.sync.pull({ since: 0, limit: 10, fullResync: true });
    // Compaction moves past the position the held page was read at.
    await bed.prisma.syncCompactionWatermark.upsert({
      where: { userId },
      create: { userId, compactedUpTo: BigInt(ids[20] as number) },
      update: { compactedUpTo: BigInt(ids[20] as number) },
    });
    const refused = await caller.sync.pull({ since: first.nextSince, limit: 10 }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(parseSyncError(refused)?.type).toBe("resync_required");
    // The full resync itself goes on from there.
    const next = await caller.sync.pull({ since: first.nextSince, limit: 10, fullResync: true });
    expect(next.ops.map((op) => op.id)).toEqual(ids.slice(10, 20));
  });
});
