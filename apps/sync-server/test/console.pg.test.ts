import { randomUUID } from "node:crypto";
import { waitUntil } from "@chorus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure, Harness, makeOps } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
});
afterAll(async () => {
  await h.close();
});

describe("admin console API", () => {
  it("lists devices with stored and buffered cursors, lag and staleness; pages, sorts and filters in SQL", async () => {
    const laptop = await h.createDevice(undefined, "Laptop");
    const studio = await h.createDevice(laptop.userId, "Studio");
    const { results, maxId } = await laptop.http.sync.push.mutate({
      ops: makeOps(6, 0, randomUUID()),
    });
    await studio.http.sync.ack.mutate({ lastSeenId: results[1]?.id as number });
    await h.server.services.acks.flush();
    await studio.http.sync.ack.mutate({ lastSeenId: results[3]?.id as number }); // buffered only
    const admin = await h.webClient(await h.createUser(), "admin");

    const page = await admin.admin.devices.query({
      userId: laptop.userId,
      sort: "name",
      direction: "asc",
    });
    expect(page.total).toBe(2);
    expect(page.rows.map((r) => r.name)).toEqual(["Laptop", "Studio"]);
    const [laptopRow, studioRow] = page.rows;
    expect(laptopRow).toMatchObject({
      storedCursor: null,
      bufferedCursor: null,
      lagOps: 6,
      stale: false,
    });
    expect(studioRow).toMatchObject({
      storedCursor: results[1]?.id,
      bufferedCursor: results[3]?.id,
      lagOps: 2,
      online: false,
    });
    expect(studioRow?.staleInMs).toBeGreaterThan(89 * 24 * 3600 * 1000);
    expect(maxId).toBe(results[5]?.id);

    const searched = await admin.admin.devices.query({ search: "Studio", userId: laptop.userId });
    expect(searched.rows.map((r) => r.id)).toEqual([studio.deviceId]);
    const paged = await admin.admin.devices.query({
      userId: laptop.userId,
      pageSize: 1,
      page: 1,
      sort: "name",
      direction: "asc",
    });
    expect(paged).toMatchObject({ total: 2, rows: [{ name: "Studio" }] });

    const users = await admin.admin.users.query({ search: "" });
    expect(users.rows.find((u) => u.id === laptop.userId)).toMatchObject({
      devices: 2,
      ops: 6,
      watermark: 0,
    });

    // A device last seen 91 days ago (bound long before) is flagged stale.
    await h.prisma.device.update({
      where: { id: laptop.deviceId },
      data: { boundAt: new Date(Date.now() - 200 * 86_400_000) },
    });
    await h.prisma.deviceSyncCursor.create({
      data: {
        userId: laptop.userId,
        deviceId: laptop.deviceId,
        lastSeenId: 0n,
        lastSeenAt: new Date(Date.now() - 91 * 86_400_000),
      },
    });
    const stale = await admin.admin.devices.query({ userId: laptop.userId, status: "stale" });
    expect(stale.rows.map((r) => [r.id, r.stale])).toEqual([[laptop.deviceId, true]]);

    const detail = await admin.admin.user.query({ userId: laptop.userId });
    // The stale laptop no longer holds compaction back; the studio (buffered ACK) does.
    expect(detail?.preview).toMatchObject({ target: results[3]?.id, opsToDelete: 2 });
    expect(detail?.preview.devicesNeedingResync.map((d) => d.deviceId)).toEqual([laptop.deviceId]);
  });

  it("streams a change when a device ACKs, without polling by the client", async () => {
    const device = await h.createDevice();
    const { maxId } = await device.http.sync.push.mutate({ ops: makeOps(1, 0) });
    const adminUser = await h.createUser();
    const ws = h.deviceWithToken(adminUser, randomUUID(), await adminToken(adminUser)).ws();
    const events: string[] = [];
    const sub = ws.client.admin.live.subscribe(undefined, {
      onData: (event) => events.push(event.kind),
    });
    await waitUntil("events.length >= 1", () => events.length >= 1); // the first fingerprint
    const before = events.length;
    await device.http.sync.ack.mutate({ lastSeenId: maxId });
    await waitUntil("events.length > before", () => events.length > before);
    sub.unsubscribe();
  });

  it("refuses non-admins", async () => {
    const device = await h.createDevice();
    const user = await h.webClient(device.userId, "user");
    expect((await failure(user.admin.devices.query({}))).data).toMatchObject({ code: "FORBIDDEN" });
  });
});

async function adminToken(userId: string): Promise<string> {
  const { mintAccessToken } = await import("@chorus/auth");
  return (await mintAccessToken(h.key, { userId, role: "admin", kind: "web" })).token;
}
