import { randomUUID } from "node:crypto";
import { parseSyncError } from "@chorus/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure, GENEROUS_LIMITS, Harness, makeOps } from "./harness.js";

// A device's push is stored but its answer is lost (the connection was cut), so its ops stay
// queued on the device. The device is revoked; its SQLite profile is bound again to the same
// account under a new device id, and the engine's bind renames the queued ops to that id and
// uploads them again (packages/desktop-sync/src/bind.ts). Operation ids are UUIDs made on the
// device, so the server must know those ops by (user, operation id) whatever device sends them.

let h: Harness;
beforeAll(async () => {
  h = await Harness.start({ rateLimits: GENEROUS_LIMITS });
});
afterAll(async () => {
  await h.close();
});

/** The first device of a user pushes `ops`; the answer "never arrives"; the device is revoked
 * through the account page's endpoint and the profile is bound under a new device id. */
async function storedThenRevokedAndRebound(count: number) {
  const first = await h.createDevice();
  const entityId = randomUUID();
  const ops = makeOps(count, 0, entityId);
  const stored = await first.http.sync.push.mutate({ ops });
  expect(stored.results.every((r) => !r.duplicate)).toBe(true);

  const web = await h.webClient(first.userId, "user");
  await web.devices.revoke.mutate({ deviceId: first.deviceId });
  const revoked = await h.prisma.device.findUniqueOrThrow({ where: { id: first.deviceId } });
  expect(revoked.revokedAt).not.toBeNull();

  const rebound = await h.createDevice(first.userId, "The same profile, bound again");
  return { first, entityId, ops, stored, rebound };
}

describe("an op stored, its answer lost, the device revoked and the profile re-bound", () => {
  it("is not stored a second time when the new device id re-sends it", async () => {
    const { ops, stored, rebound } = await storedThenRevokedAndRebound(3);

    // The bind renamed the queued ops to the new device id; the ops themselves are unchanged.
    const resent = await rebound.http.sync.push.mutate({ ops });
    expect(resent.results).toEqual(stored.results.map((r) => ({ ...r, duplicate: true })));
    expect(await h.opCount(rebound.userId)).toBe(3);
    const rows = await h.prisma.syncOp.findMany({
      where: { userId: rebound.userId },
      orderBy: { id: "asc" },
    });
    // The first copy is the one kept: its id, its device.
    expect(rows.map((r) => Number(r.id))).toEqual(stored.results.map((r) => r.id));
    expect(new Set(rows.map((r) => r.deviceId)).size).toBe(1);
    expect(rows[0]?.deviceId).not.toBe(rebound.deviceId);
  });

  it("answers the re-sent ops as duplicates in a batch that also carries new ops", async () => {
    const { entityId, ops, stored, rebound } = await storedThenRevokedAndRebound(2);
    // Edits made while revoked queue behind the stored ones, with higher stamps.
    const [fresh] = makeOps(1, 2, entityId);
    const resent = await rebound.http.sync.push.mutate({ ops: [...ops, fresh] as typeof ops });
    expect(resent.results.slice(0, 2)).toEqual(
      stored.results.map((r) => ({ ...r, duplicate: true })),
    );
    expect(resent.results[2]?.duplicate).toBe(false);
    expect(resent.results[2]?.id).toBeGreaterThan(stored.maxId);
    expect(await h.opCount(rebound.userId)).toBe(3);

    // A retry of that whole batch (its answer lost too) takes the op-by-op lookup (its stamps
    // are not above the new device's high-water mark) and is all duplicates.
    const retried = await rebound.http.sync.push.mutate({ ops: [...ops, fresh] as typeof ops });
    expect(retried.results).toEqual(resent.results.map((r) => ({ ...r, duplicate: true })));
    expect(await h.opCount(rebound.userId)).toBe(3);
  });

  it("keeps the new device's Lamport high-water mark: a regression after the re-bind is refused", async () => {
    const { entityId, ops, rebound } = await storedThenRevokedAndRebound(2);
    await rebound.http.sync.push.mutate({ ops: [...ops, ...makeOps(2, 2, entityId)] }); // 3, 4
    // A stamp at or below the new device's maximum that was never stored is refused.
    const error = await failure(rebound.http.sync.push.mutate({ ops: makeOps(1, 2) }));
    expect(parseSyncError(error)).toEqual({ type: "lamport_regression", storedMax: 4 });
    // A re-sent op already stored under the old device does not count as "not stored yet".
    const ok = await rebound.http.sync.push.mutate({
      ops: [ops[1], ...makeOps(1, 4)] as typeof ops,
    });
    expect(ok.results.map((r) => r.duplicate)).toEqual([true, false]);
    expect(await h.opCount(rebound.userId)).toBe(5);
  });
});
