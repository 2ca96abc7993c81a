import { waitUntil } from "@chorus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENEROUS_LIMITS, Harness, makeOps } from "./harness.js";

// One hour: within a test, only the first call of a device may write.
let h: Harness;
beforeAll(async () => {
  h = await Harness.start({ rateLimits: GENEROUS_LIMITS, lastSeenThrottleMs: 3_600_000 });
});
afterAll(async () => {
  await h.close();
});

async function lastSeenAt(deviceId: string): Promise<Date | null> {
  const device = await h.prisma.device.findUniqueOrThrow({ where: { id: deviceId } });
  return device.lastSeenAt;
}

describe("devices.last_seen_at (the account page's 'last synced')", () => {
  it("a push sets last_seen_at of a device that never synced", async () => {
    const device = await h.createDevice();
    expect(await lastSeenAt(device.deviceId)).toBeNull();
    const before = Date.now();
    await device.http.sync.push.mutate({ ops: makeOps(1, 0) });
    await h.server.services.lastSeen.settle();
    const seen = await lastSeenAt(device.deviceId);
    expect(seen?.getTime()).toBeGreaterThanOrEqual(before - 1_000);
  });

  it("an ack sets last_seen_at", async () => {
    const writer = await h.createDevice();
    const reader = await h.createDevice(writer.userId);
    const { results } = await writer.http.sync.push.mutate({ ops: makeOps(1, 0) });
    expect(await lastSeenAt(reader.deviceId)).toBeNull();
    await reader.http.sync.ack.mutate({ lastSeenId: results[0]?.id ?? 0 });
    await h.server.services.lastSeen.settle();
    expect(await lastSeenAt(reader.deviceId)).not.toBeNull();
  });

  it("a subscription sets last_seen_at when it starts, and again when it ends", async () => {
    const device = await h.createDevice();
    const ws = device.ws();
    const sub = ws.client.sync.subscribe.subscribe({}, { onData: () => {} });
    await waitUntil(
      "last_seen_at is set",
      async () => (await lastSeenAt(device.deviceId)) !== null,
    );
    const started = (await lastSeenAt(device.deviceId)) as Date;
    // Move the stored time back: the end of the subscription must write again, throttle or not.
    await h.prisma.device.update({
      where: { id: device.deviceId },
      data: { lastSeenAt: new Date(started.getTime() - 3_600_000) },
    });
    sub.unsubscribe();
    await waitUntil(
      "last_seen_at is written again",
      async () => ((await lastSeenAt(device.deviceId))?.getTime() ?? 0) >= started.getTime(),
    );
    await ws.close();
  });

  it("writes at most once per device within the throttle, and never moves backwards", async () => {
    const device = await h.createDevice();
    await device.http.sync.push.mutate({ ops: makeOps(1, 0) });
    await h.server.services.lastSeen.settle();
    const first = (await lastSeenAt(device.deviceId)) as Date;
    const marker = new Date(first.getTime() - 1_000);
    await h.prisma.device.update({ where: { id: device.deviceId }, data: { lastSeenAt: marker } });
    await device.http.sync.push.mutate({ ops: makeOps(1, 1) });
    await h.server.services.lastSeen.settle();
    expect((await lastSeenAt(device.deviceId))?.getTime()).toBe(marker.getTime());

    const future = new Date(Date.now() + 86_400_000);
    await h.prisma.device.update({ where: { id: device.deviceId }, data: { lastSeenAt: future } });
    h.server.services.lastSeen.touch(device.deviceId, { force: true });
    await h.server.services.lastSeen.settle();
    expect((await lastSeenAt(device.deviceId))?.getTime()).toBe(future.getTime());
  });
});

describe("device_socket (the diagnosis's 'socket online since')", () => {
  it("records a device's socket when it opens, and marks that same row closed when it closes", async () => {
    const device = await h.createDevice();
    const ws = device.ws();
    await ws.client.system.health.query(); // open and authenticated
    const row = () => h.prisma.deviceSocket.findUnique({ where: { deviceId: device.deviceId } });
    await waitUntil("the socket's row is written", async () => (await row()) !== null);
    const opened = await row();
    expect(opened?.closedAt).toBeNull();
    await ws.raw.close();
    // Marked closed only where connected_at is the moment recorded at opening.
    await waitUntil(
      "the socket's row is marked closed",
      async () => (await row())?.closedAt != null,
    );
    const closed = await row();
    expect(closed?.connectedAt).toEqual(opened?.connectedAt);
    expect(closed?.closedAt?.getTime()).toBeGreaterThanOrEqual(opened?.connectedAt.getTime() ?? 0);
  });
});
