import { randomUUID } from "node:crypto";
import { USER_LOCK_STATEMENT } from "@chorus/db";
import { parseSyncError } from "@chorus/protocol";
import { waitUntil } from "@chorus/testing";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { failure, GENEROUS_LIMITS, Harness, makeOps } from "./harness.js";

/*
 * A device pushes over the WebSocket that carries its subscription (ADR 0025). Every rule of a
 * push over HTTP holds there too: the answer, the idempotency of a re-sent push (by operation
 * id, whichever transport carried either attempt), the per-device rate limit, the per-user gate,
 * the token and the device checks.
 */
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe("a push over the device's WebSocket", () => {
  it("is stored and answered as over HTTP; re-sent after its socket dropped, it is answered from the stored ops", async () => {
    harness = await Harness.start({ rateLimits: GENEROUS_LIMITS });
    const device = await harness.createDevice();
    const ops = makeOps(3);

    const first = device.ws();
    const answer = await first.client.sync.push.mutate({ ops });
    expect(answer.results.map((r) => r.duplicate)).toEqual([false, false, false]);
    expect(answer.results.map((r) => r.operationId)).toEqual(ops.map((op) => op.operationId));
    expect(answer.maxId).toBe(Math.max(...answer.results.map((r) => r.id)));
    await first.close();

    // The answer was lost with the socket: the device sends the same ops on its next socket,
    // and once more over HTTP. Both are answered with the stored ids, and nothing is doubled.
    const second = device.ws();
    const again = await second.client.sync.push.mutate({ ops });
    expect(again.results).toEqual(answer.results.map((r) => ({ ...r, duplicate: true })));
    const overHttp = await device.http.sync.push.mutate({ ops });
    expect(overHttp.results).toEqual(again.results);
    expect(await harness.opCount(device.userId)).toBe(3);

    // And a push that went over HTTP first is recognised over the socket.
    const more = makeOps(2);
    const stored = await device.http.sync.push.mutate({ ops: more });
    const resent = await second.client.sync.push.mutate({ ops: more });
    expect(resent.results).toEqual(stored.results.map((r) => ({ ...r, duplicate: true })));
    expect(await harness.opCount(device.userId)).toBe(5);
  });

  it("is held to the device's push rate limit", async () => {
    harness = await Harness.start({
      rateLimits: { ...GENEROUS_LIMITS, push: { points: 2, durationSeconds: 60 } },
    });
    const device = await harness.createDevice();
    const { client } = device.ws();
    await client.sync.push.mutate({ ops: makeOps(1) });
    await client.sync.push.mutate({ ops: makeOps(1) });
    const refused = await failure(client.sync.push.mutate({ ops: makeOps(1) }));
    expect(parseSyncError(refused)?.type).toBe("rate_limited");
    expect(await harness.opCount(device.userId)).toBe(2);
  });

  it("waits in the user's push line, and past it is refused rate_limited", async () => {
    harness = await Harness.start({
      bounds: { pushesPerUser: 1, pushQueuePerUser: 1 },
      rateLimits: GENEROUS_LIMITS,
    });
    const bed = harness;
    const owner = await bed.createDevice();
    const desktops = [
      owner,
      await bed.createDevice(owner.userId),
      await bed.createDevice(owner.userId),
    ];
    const holder = new pg.Client({ connectionString: bed.db.url });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query(USER_LOCK_STATEMENT, [owner.userId]);
      const settled: unknown[] = [];
      const pushes = desktops.map((desktop, i) =>
        desktop
          .ws()
          .client.sync.push.mutate({ ops: makeOps(1, 100 + i * 10, randomUUID()) })
          .then(
            () => settled.push("stored"),
            (error: unknown) => settled.push(error),
          ),
      );
      // One runs (waiting in the database for the lock), one waits in line, one is refused.
      await waitUntil("one push refused", () => settled.length === 1);
      expect(parseSyncError(settled[0])?.type).toBe("rate_limited");
      await holder.query("COMMIT");
      await Promise.all(pushes);
      expect(settled.slice(1)).toEqual(["stored", "stored"]);
    } finally {
      await holder.end();
    }
  });

  it("needs the socket's token to be valid and its device bound", async () => {
    harness = await Harness.start({ rateLimits: GENEROUS_LIMITS });
    const device = await harness.createDevice();
    const forged = harness.deviceWithToken(device.userId, device.deviceId, `${device.token}x`);
    const unauthorized = await failure(forged.ws().client.sync.push.mutate({ ops: makeOps(1) }));
    expect(unauthorized.data).toMatchObject({ code: "UNAUTHORIZED" });

    // Revoked behind the socket's back (the revocation's close has not reached this replica):
    // the device is checked on every call, not once per connection.
    const { client } = device.ws();
    await client.sync.push.mutate({ ops: makeOps(1) });
    await harness.prisma.device.update({
      where: { id: device.deviceId },
      data: { revokedAt: new Date() },
    });
    harness.server.services.devices.invalidate(device.deviceId);
    const revoked = await failure(client.sync.push.mutate({ ops: makeOps(1) }));
    expect(parseSyncError(revoked)?.type).toBe("device_revoked");
    expect(await harness.opCount(device.userId)).toBe(1);
  });
});
