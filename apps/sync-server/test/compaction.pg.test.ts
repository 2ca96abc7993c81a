import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextRunAt } from "../src/compaction-schedule.js";
import { failure, Harness, makeOps } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
});
afterAll(async () => {
  await h.close();
});

describe("compaction through the admin API", () => {
  it("an admin runs it now: buffered ACKs count, the watermark rises, the run is recorded", async () => {
    const device = await h.createDevice();
    const entity = crypto.randomUUID();
    const { maxId } = await device.http.sync.push.mutate({ ops: makeOps(10, 0, entity) });
    await device.http.sync.ack.mutate({ lastSeenId: maxId }); // buffered, not yet written
    const admin = await h.webClient(await h.createUser(), "admin");

    const preview = await admin.admin.runCompaction.mutate({ dryRun: true, userId: device.userId });
    expect(preview).toMatchObject({
      outcome: "dry_run",
      users: [{ target: maxId, opsToDelete: 8 }],
    });

    const result = await admin.admin.runCompaction.mutate({ userId: device.userId });
    expect(result).toMatchObject({ outcome: "succeeded", opsDeleted: 8 });
    const watermark = await h.prisma.syncCompactionWatermark.findUniqueOrThrow({
      where: { userId: device.userId },
    });
    expect(Number(watermark.compactedUpTo)).toBe(maxId);
    const runs = await admin.admin.compactionRuns.query({ limit: 5 });
    expect(runs[0]).toMatchObject({ outcome: "succeeded", opsDeleted: 8, dryRun: false });
  });

  it("refuses a non-admin with FORBIDDEN", async () => {
    const device = await h.createDevice();
    const user = await h.webClient(device.userId, "user");
    for (const call of [
      () => user.admin.runCompaction.mutate({}),
      () => user.admin.compactionRuns.query({ limit: 5 }),
      () => device.http.admin.compactionRuns.query({ limit: 5 }),
    ]) {
      expect((await failure(call())).data).toMatchObject({ code: "FORBIDDEN" });
    }
  });
});

describe("the nightly schedule", () => {
  it("picks the next HH:MM in UTC", () => {
    const now = new Date("2026-11-22T02:00:00Z");
    expect(nextRunAt("03:30", now).toISOString()).toBe("2026-11-22T03:30:00.000Z");
    expect(nextRunAt("01:00", now).toISOString()).toBe("2026-11-23T01:00:00.000Z");
    expect(nextRunAt("02:00", now).toISOString()).toBe("2026-11-23T02:00:00.000Z");
    expect(() => nextRunAt("25:00", now)).toThrow(/HH:MM/);
  });
});
