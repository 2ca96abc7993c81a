import { TOKEN_AUDIENCE, TOKEN_ISSUER } from "@chorus/auth";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure, Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
});
afterAll(async () => {
  await h.close();
});

/** A bounded fetch: a request that hangs fails the test instead of the run. */
function fetchWithin(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
}

describe("subscriptions run over the WebSocket only", () => {
  const input = encodeURIComponent(JSON.stringify({ lastEventId: 0 }));

  it.each([
    ["as server-sent events", { accept: "text/event-stream" }],
    ["as a plain HTTP answer (buffered until the stream ends)", {}],
  ])("subscription over plain HTTP is refused %s, nothing streamed", async (_, headers) => {
    const device = await h.createDevice();
    const response = await fetchWithin(`${h.httpUrl}/sync.subscribe?input=${input}`, {
      headers: { ...headers, authorization: `Bearer ${device.token}` },
    });
    expect(response.status).toBe(405);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await response.json()) as { error: { message: string; data: unknown } };
    expect(body.error.data).toMatchObject({
      code: "METHOD_NOT_SUPPORTED",
      httpStatus: 405,
      path: "sync.subscribe",
    });
    expect(body.error.message).toMatch(/WebSocket/);
  });

  it("subscription over plain HTTP is refused inside a batch too", async () => {
    const device = await h.createDevice();
    const batch = encodeURIComponent(JSON.stringify({ 0: {}, 1: { lastEventId: 0 } }));
    const response = await fetchWithin(
      `${h.httpUrl}/system.health,sync.subscribe?batch=1&input=${batch}`,
      { headers: { authorization: `Bearer ${device.token}` } },
    );
    expect(response.status).toBe(405);
  });

  it("the console's live feed is refused over plain HTTP as well", async () => {
    const response = await fetchWithin(`${h.httpUrl}/admin.live`, {
      headers: { accept: "text/event-stream" },
    });
    expect(response.status).toBe(405);
    expect(await response.text()).not.toMatch(/^data:/m);
  });
});

describe("a device token is a device's credential, nothing more", () => {
  it("device token carrying the admin role cannot run admin procedures", async () => {
    const device = await h.createDevice();
    await h.prisma.user.update({ where: { id: device.userId }, data: { role: "admin" } });
    // Signed by the trusted key, as the token endpoint once minted it for an admin's desktop.
    const token = await new SignJWT({ role: "admin", kind: "device", did: device.deviceId })
      .setProtectedHeader({ alg: "EdDSA", kid: h.key.kid, typ: "at+jwt" })
      .setSubject(device.userId)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(h.key.privateKey);
    const client = h.clientWithHeader(`Bearer ${token}`);
    const devices = await failure(client.admin.devices.query({}));
    // The verifier refuses the claim outright: a device token never carries admin.
    expect(devices.data).toMatchObject({ code: "UNAUTHORIZED" });
    const compaction = await failure(client.admin.runCompaction.mutate({ dryRun: true }));
    expect(compaction.data).toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("revoked device's still-valid access token cannot list, rename or revoke sibling devices", async () => {
    const revoked = await h.createDevice();
    const sibling = await h.createDevice(revoked.userId, "Sibling");
    await sibling.http.devices.revoke.mutate({ deviceId: revoked.deviceId });

    const list = await failure(revoked.http.devices.list.query());
    expect(list.data).toMatchObject({ code: "UNAUTHORIZED" });
    const rename = await failure(
      revoked.http.devices.rename.mutate({ deviceId: sibling.deviceId, name: "pwned" }),
    );
    expect(rename.data).toMatchObject({ code: "UNAUTHORIZED" });
    const revoke = await failure(
      revoked.http.devices.revoke.mutate({ deviceId: sibling.deviceId }),
    );
    expect(revoke.data).toMatchObject({ code: "UNAUTHORIZED" });

    const kept = await h.prisma.device.findUniqueOrThrow({ where: { id: sibling.deviceId } });
    expect(kept).toMatchObject({ name: "Sibling", revokedAt: null });
  });
});
