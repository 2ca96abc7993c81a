import { generateSigningKey, mintAccessToken, TOKEN_ISSUER } from "@chorus/auth";
import { parseSyncError, type SyncOp } from "@chorus/protocol";
import { waitUntil } from "@chorus/testing";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLOSE_DEVICE_REVOKED, CLOSE_TOKEN_EXPIRED } from "../src/server.js";
import { failure, Harness, makeOps } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
});
afterAll(async () => {
  await h.close();
});

describe("one user's data is invisible to another", () => {
  it("another user's token can neither read, push into, ACK nor subscribe to this user's data", async () => {
    const alice = await h.createDevice();
    const mallory = await h.createDevice();
    const { maxId } = await alice.http.sync.push.mutate({ ops: makeOps(3, 0) });

    expect((await mallory.http.sync.pull.query({ since: 0 })).ops).toEqual([]);
    const ack = await failure(mallory.http.sync.ack.mutate({ lastSeenId: maxId }));
    expect(parseSyncError(ack)).toEqual({ type: "ack_beyond_head", newestId: 0 });

    const received: SyncOp[] = [];
    const ws = mallory.ws();
    const sub = ws.client.sync.subscribe.subscribe(
      { lastEventId: 0 },
      { onData: (e) => received.push(e.data) },
    );
    await alice.http.sync.push.mutate({ ops: makeOps(2, 3) });
    await mallory.http.sync.push.mutate({ ops: makeOps(1, 0) });
    await waitUntil("received.length === 1", () => received.length === 1);
    expect(received[0]?.deviceId).toBe(mallory.deviceId);
    sub.unsubscribe();

    // What mallory pushed landed in mallory's log only.
    expect(await h.opCount(alice.userId)).toBe(5);
    expect((await alice.http.sync.pull.query({ since: 0 })).ops.map((op) => op.deviceId)).toEqual(
      Array(5).fill(alice.deviceId),
    );
  });

  it("another user's devices can be neither listed, renamed nor revoked", async () => {
    const alice = await h.createDevice();
    const mallory = await h.createDevice();
    expect((await mallory.http.devices.list.query()).map((d) => d.id)).toEqual([mallory.deviceId]);
    const rename = await failure(
      mallory.http.devices.rename.mutate({ deviceId: alice.deviceId, name: "pwned" }),
    );
    expect(rename.data).toMatchObject({ code: "NOT_FOUND" });
    const revoke = await failure(mallory.http.devices.revoke.mutate({ deviceId: alice.deviceId }));
    expect(revoke.data).toMatchObject({ code: "NOT_FOUND" });
    const device = await h.prisma.device.findUniqueOrThrow({ where: { id: alice.deviceId } });
    expect(device.name).not.toBe("pwned");
    expect(device.revokedAt).toBeNull();
  });
});

describe("tokens", () => {
  async function refusedWith(authorization: string): Promise<string> {
    const error = await failure(h.clientWithHeader(authorization).sync.pull.query({ since: 0 }));
    expect(error.data).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
    return error.message;
  }

  it("refuses a forged token (signed by another key)", async () => {
    const device = await h.createDevice();
    const forger = await generateSigningKey();
    const { token } = await mintAccessToken(forger, {
      userId: device.userId,
      role: "user",
      kind: "device",
      deviceId: device.deviceId,
    });
    expect(await refusedWith(`Bearer ${token}`)).toMatch(/token refused/);
  });

  it("refuses an expired token", async () => {
    const device = await h.createDevice();
    const { token } = await mintAccessToken(
      h.key,
      { userId: device.userId, role: "user", kind: "device", deviceId: device.deviceId },
      { ttlSeconds: 60, now: () => new Date(Date.now() - 10 * 60_000) },
    );
    expect(await refusedWith(`Bearer ${token}`)).toMatch(/expired/);
  });

  it("refuses a token minted for another audience", async () => {
    const device = await h.createDevice();
    const token = await new SignJWT({ role: "user", kind: "device", did: device.deviceId })
      .setProtectedHeader({ alg: "EdDSA", kid: h.key.kid, typ: "at+jwt" })
      .setSubject(device.userId)
      .setIssuer(TOKEN_ISSUER)
      .setAudience("some-other-service")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(h.key.privateKey);
    expect(await refusedWith(`Bearer ${token}`)).toMatch(/not for chorus-sync/);
  });

  it("refuses garbage and a missing token", async () => {
    await refusedWith("Bearer not.a.jwt");
    const error = await failure(h.clientWithHeader(undefined).sync.pull.query({ since: 0 }));
    expect(error.data).toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("refuses a web token where a device token is needed", async () => {
    const device = await h.createDevice();
    const { token } = await mintAccessToken(h.key, {
      userId: device.userId,
      role: "user",
      kind: "web",
    });
    const error = await failure(
      h.clientWithHeader(`Bearer ${token}`).sync.pull.query({ since: 0 }),
    );
    expect(error.data).toMatchObject({ code: "FORBIDDEN" });
  });
});

describe("revocation and expiry end sockets", () => {
  it("closes a revoked device's socket at once and refuses its token afterwards", async () => {
    const laptop = await h.createDevice();
    const desktop = await h.createDevice(laptop.userId);
    const ws = laptop.ws();
    const closes: number[] = [];
    await ws.client.system.health.query(); // the socket is open and authenticated
    const raw = ws.raw.connection?.ws;
    raw?.addEventListener("close", (event) => closes.push(event.code));

    await desktop.http.devices.revoke.mutate({ deviceId: laptop.deviceId });
    await waitUntil("closes.length > 0", () => closes.length > 0);
    expect(closes[0]).toBe(CLOSE_DEVICE_REVOKED);
    const error = await failure(laptop.http.sync.pull.query({ since: 0 }));
    expect(error.data).toMatchObject({ code: "UNAUTHORIZED" });
    expect(error.message).toMatch(/revoked/);
    // Typed, so the device can tell "bind again" from "refresh the token".
    expect(parseSyncError(error)).toEqual({ type: "device_revoked" });
  });

  it("closes every open socket of a revoked device, not only its first", async () => {
    const laptop = await h.createDevice();
    const desktop = await h.createDevice(laptop.userId);
    const sockets = [laptop.ws(), laptop.ws()];
    const closes: number[] = [];
    for (const ws of sockets) {
      await ws.client.system.health.query(); // open and authenticated
      ws.raw.connection?.ws?.addEventListener("close", (event) => closes.push(event.code));
    }
    await desktop.http.devices.revoke.mutate({ deviceId: laptop.deviceId });
    await waitUntil("closes.length === 2", () => closes.length === 2);
    expect(closes).toEqual([CLOSE_DEVICE_REVOKED, CLOSE_DEVICE_REVOKED]);
    await Promise.all(sockets.map((ws) => ws.raw.close()));
  });

  it("closes a socket when its token expires; the client reconnects with a fresh token", async () => {
    const device = await h.createDevice();
    const writer = await h.createDevice(device.userId);
    let minted = 0;
    const tokens = async () => {
      minted++;
      const { token } = await mintAccessToken(
        h.key,
        { userId: device.userId, role: "user", kind: "device", deviceId: device.deviceId },
        { ttlSeconds: 2 },
      );
      return { token };
    };
    const { createWSClient, createTRPCClient, wsLink } = await import("@trpc/client");
    const { WebSocket } = await import("./harness.js");
    const raw = createWSClient({
      url: `ws://${h.base}/trpc`,
      WebSocket,
      connectionParams: tokens,
      retryDelayMs: () => 50,
    });
    const client = createTRPCClient<import("@chorus/api").AppRouter>({
      links: [wsLink({ client: raw })],
    });
    const received: number[] = [];
    const sub = client.sync.subscribe.subscribe(
      { lastEventId: 0 },
      { onData: (event) => received.push(event.data.id) },
    );
    try {
      const first = await writer.http.sync.push.mutate({ ops: makeOps(1, 0) });
      await waitUntil("received.length === 1", () => received.length === 1);
      const closes: number[] = [];
      raw.connection?.ws?.addEventListener("close", (event) => closes.push(event.code));
      const mintedBefore = minted;
      await waitUntil("closes.length === 1", () => closes.length === 1);
      expect(closes).toEqual([CLOSE_TOKEN_EXPIRED]);
      await waitUntil("minted > mintedBefore", () => minted > mintedBefore); // reconnected with a fresh token
      const second = await writer.http.sync.push.mutate({ ops: makeOps(1, 1) });
      await waitUntil("received.length === 2", () => received.length === 2);
      expect(received).toEqual([first.maxId, second.maxId]);
    } finally {
      sub.unsubscribe();
      await raw.close();
    }
  });
});
