import { randomUUID } from "node:crypto";
import {
  codeChallengeS256,
  createVerifier,
  generateCodeVerifier,
  generateOAuthState,
  generateSigningKey,
  hashRefreshToken,
  type SigningKey,
  TokenEndpointError,
  TokenEndpointResponse,
} from "@chorus/auth";
import { beforeAll, describe, expect, it } from "vitest";
import {
  handleTokenRequest,
  revokeRefreshToken,
  type TokenResult,
  type TokenSuccess,
} from "@/server/desktop-auth";
import { approveDesktopLogin, type DesktopLoginRequest } from "@/server/desktop-login";
import { testPrisma } from "./database";

// The token endpoint's rules (ADR 0002 §3-4) against a real database, with an injected clock.
const database = testPrisma(4);
let key: SigningKey;
const SYNC_URL = "http://127.0.0.1:4000";

beforeAll(async () => {
  key = await generateSigningKey();
});

async function createUser(role: "user" | "admin" = "user") {
  return database.prisma.user.create({
    data: { email: `${randomUUID()}@example.test`, passwordHash: "unused", role },
  });
}

/** A desktop's sign-in up to the redirect: the code it receives, its verifier and request. */
async function approvedCode(userId: string, now = new Date()) {
  const verifier = generateCodeVerifier();
  const request: DesktopLoginRequest = {
    redirect_uri: `http://127.0.0.1:${40000 + Math.floor(Math.random() * 20000)}/callback`,
    state: generateOAuthState(),
    code_challenge: codeChallengeS256(verifier),
    code_challenge_method: "S256",
    device_name: "Studio Mac",
    platform: "darwin",
    app_version: "1.4.0",
  };
  const { redirectTo, expiresAt } = await approveDesktopLogin(
    database.prisma,
    userId,
    request,
    now,
  );
  const url = new URL(redirectTo);
  expect(url.searchParams.get("state")).toBe(request.state);
  const code = url.searchParams.get("code");
  if (!code) throw new Error("no code in the redirect");
  return { code, verifier, request, expiresAt };
}

function token(body: unknown, now?: Date): Promise<TokenResult> {
  return handleTokenRequest(
    {
      prisma: database.prisma,
      signingKey: key,
      syncUrl: SYNC_URL,
      ...(now ? { now: () => now } : {}),
    },
    body,
  );
}

function exchange(
  grant: { code: string; verifier: string; request: DesktopLoginRequest },
  now?: Date,
) {
  return token(
    {
      grant_type: "authorization_code",
      code: grant.code,
      code_verifier: grant.verifier,
      redirect_uri: grant.request.redirect_uri,
    },
    now,
  );
}

function refresh(refreshToken: string, now?: Date) {
  return token({ grant_type: "refresh_token", refresh_token: refreshToken }, now);
}

function secondsAfter(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

function success(result: TokenResult): TokenSuccess {
  if (result.status !== 200) throw new Error(`expected 200, got ${JSON.stringify(result.body)}`);
  // The answer the desktop engine parses: the shared schema, not just this module's type.
  return TokenEndpointResponse.parse(result.body);
}

function expectInvalidGrant(result: TokenResult) {
  expect(result.status).toBe(400);
  expect(TokenEndpointError.parse(result.body).error).toBe("invalid_grant");
}

describe("authorization_code grant", () => {
  it("exchanges a fresh code for a device token, a refresh token and the new device", async () => {
    const user = await createUser();
    const grant = await approvedCode(user.id);
    const body = success(await exchange(grant));

    expect(body).toMatchObject({
      token_type: "Bearer",
      expires_in: 600,
      refresh_expires_in: 30 * 24 * 3600,
      user_id: user.id,
      email: user.email,
      sync_url: SYNC_URL,
    });
    const verifier = await createVerifier({ publicKey: key.publicKey });
    const principal = await verifier.verify(body.access_token);
    expect(principal).toMatchObject({
      kind: "device",
      userId: user.id,
      deviceId: body.device_id,
      role: "user",
    });

    const device = await database.prisma.device.findUniqueOrThrow({
      where: { id: body.device_id },
    });
    expect(device).toMatchObject({
      userId: user.id,
      name: "Studio Mac",
      platform: "darwin",
      appVersion: "1.4.0",
      revokedAt: null,
    });
    // Stored hashed, never in the clear.
    const stored = await database.prisma.refreshToken.findMany({
      where: { deviceId: body.device_id },
    });
    expect(stored).toHaveLength(1);
    expect(stored[0]?.tokenHash).toBe(hashRefreshToken(body.refresh_token));
    expect(stored[0]?.tokenHash).not.toBe(body.refresh_token);
  });

  it("stores the code hashed, bound to the redirect_uri and the challenge, for at most 60 s", async () => {
    const user = await createUser();
    const now = new Date("2026-11-22T10:00:00Z");
    const grant = await approvedCode(user.id, now);
    const row = await database.prisma.desktopAuthCode.findFirstOrThrow({
      where: { userId: user.id },
    });
    expect(row.codeHash).not.toBe(grant.code);
    expect(row.redirectUri).toBe(grant.request.redirect_uri);
    expect(row.codeChallenge).toBe(grant.request.code_challenge);
    expect(row.expiresAt.getTime() - now.getTime()).toBeLessThanOrEqual(60_000);
  });

  it("device token of an admin's desktop does not carry the admin role", async () => {
    const admin = await createUser("admin");
    const body = success(await exchange(await approvedCode(admin.id)));
    const verifier = await createVerifier({ publicKey: key.publicKey });
    expect((await verifier.verify(body.access_token)).role).toBe("user");
    const refreshed = success(await refresh(body.refresh_token));
    expect((await verifier.verify(refreshed.access_token)).role).toBe("user");
  });

  it("refuses a code used twice, and revokes what the first use issued", async () => {
    const user = await createUser();
    const grant = await approvedCode(user.id);
    const first = success(await exchange(grant));
    expectInvalidGrant(await exchange(grant));
    // RFC 6749 §4.1.2: tokens issued from a replayed code are revoked.
    expectInvalidGrant(await refresh(first.refresh_token));
  });

  it("refuses a wrong code_verifier, and the code is spent", async () => {
    const user = await createUser();
    const grant = await approvedCode(user.id);
    expectInvalidGrant(await exchange({ ...grant, verifier: generateCodeVerifier() }));
    expectInvalidGrant(await exchange(grant));
  });

  it("refuses an expired code (61 s later)", async () => {
    const user = await createUser();
    const issuedAt = new Date("2026-11-22T10:00:00Z");
    const grant = await approvedCode(user.id, issuedAt);
    const result = await exchange(grant, new Date(issuedAt.getTime() + 61_000));
    expectInvalidGrant(result);
    expect(result.body).toMatchObject({ error_description: expect.stringMatching(/expired/) });
  });

  it("accepts the code just before it expires", async () => {
    const user = await createUser();
    const issuedAt = new Date("2026-11-22T10:00:00Z");
    const grant = await approvedCode(user.id, issuedAt);
    success(await exchange(grant, new Date(issuedAt.getTime() + 59_000)));
  });

  it("refuses a redirect_uri other than the one the code was issued for", async () => {
    const user = await createUser();
    const grant = await approvedCode(user.id);
    const result = await exchange({
      ...grant,
      request: { ...grant.request, redirect_uri: "http://127.0.0.1:1/callback" },
    });
    expectInvalidGrant(result);
    expect(result.body).toMatchObject({ error_description: expect.stringMatching(/redirect_uri/) });
  });

  it("refuses unknown codes and malformed requests", async () => {
    expectInvalidGrant(
      await exchange({
        code: "nope",
        verifier: generateCodeVerifier(),
        request: { redirect_uri: "http://127.0.0.1:1/callback" } as DesktopLoginRequest,
      }),
    );
    const missing = await token({ grant_type: "authorization_code", code: "x" });
    expect(missing).toMatchObject({ status: 400, body: { error: "invalid_request" } });
    const unknownGrant = await token({ grant_type: "password", username: "a", password: "b" });
    expect(unknownGrant).toMatchObject({ status: 400, body: { error: "invalid_request" } });
    expect(await token(null)).toMatchObject({ status: 400, body: { error: "invalid_request" } });
  });
});

describe("refresh_token grant", () => {
  it("rotates: a new refresh token each time, and the device keeps its id", async () => {
    const user = await createUser();
    const first = success(await exchange(await approvedCode(user.id)));
    const second = success(await refresh(first.refresh_token));
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.device_id).toBe(first.device_id);
    expect(second.access_token).not.toBe(first.access_token);
    const third = success(await refresh(second.refresh_token));
    expect(third.device_id).toBe(first.device_id);
  });

  it("a reused refresh token revokes the whole family", async () => {
    const user = await createUser();
    const issuedAt = new Date();
    const first = success(await exchange(await approvedCode(user.id, issuedAt), issuedAt));
    const second = success(await refresh(first.refresh_token, issuedAt));

    // Presented again after the grace window: reuse.
    expectInvalidGrant(await refresh(first.refresh_token, secondsAfter(issuedAt, 61)));
    // The legitimate holder of the newest token is signed out too.
    expectInvalidGrant(await refresh(second.refresh_token));
    const family = await database.prisma.refreshToken.findMany({
      where: { deviceId: first.device_id },
    });
    expect(family).toHaveLength(2);
    expect(family.every((row) => row.revokedAt !== null)).toBe(true);
  });

  it("two refreshes racing with the same token: the family keeps exactly one live token, one of the answers", async () => {
    const user = await createUser();
    const first = success(await exchange(await approvedCode(user.id)));
    const results = await Promise.all([refresh(first.refresh_token), refresh(first.refresh_token)]);
    const family = await database.prisma.refreshToken.findMany({
      where: { deviceId: first.device_id },
    });
    const live = family.filter((row) => row.revokedAt === null && row.rotatedAt === null);
    expect(live).toHaveLength(1);
    const answered = results.flatMap((result) =>
      result.status === 200 ? [hashRefreshToken(result.body.refresh_token)] : [],
    );
    expect(answered).toContain(live[0]?.tokenHash);
  });

  it("a lost refresh answer does not sign the desktop out: the previous token, presented again within the grace window, yields a working successor", async () => {
    const user = await createUser();
    const issuedAt = new Date();
    const first = success(await exchange(await approvedCode(user.id, issuedAt), issuedAt));
    // The server rotates; the answer never reaches the desktop.
    const lost = success(await refresh(first.refresh_token, issuedAt));
    // The desktop retries with the token it still has, 59 s later (the window is 60 s).
    const retried = success(await refresh(first.refresh_token, secondsAfter(issuedAt, 59)));
    expect(retried.device_id).toBe(first.device_id);
    expect(retried.refresh_token).not.toBe(lost.refresh_token);
    // And again (a second lost answer) still works, within the same window.
    const again = success(await refresh(first.refresh_token, secondsAfter(issuedAt, 60)));
    // The newest successor works; the family has exactly one live token.
    const next = success(await refresh(again.refresh_token, secondsAfter(issuedAt, 61)));
    expect(next.device_id).toBe(first.device_id);
    const family = await database.prisma.refreshToken.findMany({
      where: { deviceId: first.device_id },
    });
    expect(family.filter((row) => row.revokedAt === null && row.rotatedAt === null)).toHaveLength(
      1,
    );
    expect(
      await database.prisma.device.findUniqueOrThrow({ where: { id: first.device_id } }),
    ).toMatchObject({ revokedAt: null });
  });

  it("reuse is detected outside the grace window, and inside it once the successor was used", async () => {
    const user = await createUser();
    const issuedAt = new Date();
    // Outside: 61 s after the rotation.
    const a = success(await exchange(await approvedCode(user.id, issuedAt), issuedAt));
    const aNext = success(await refresh(a.refresh_token, issuedAt));
    expectInvalidGrant(await refresh(a.refresh_token, secondsAfter(issuedAt, 61)));
    expectInvalidGrant(await refresh(aNext.refresh_token, secondsAfter(issuedAt, 62)));

    // Inside, but the desktop did hear the answer and used the successor: the old token is reuse.
    const b = success(await exchange(await approvedCode(user.id, issuedAt), issuedAt));
    const bNext = success(await refresh(b.refresh_token, issuedAt));
    const bThird = success(await refresh(bNext.refresh_token, secondsAfter(issuedAt, 5)));
    expectInvalidGrant(await refresh(b.refresh_token, secondsAfter(issuedAt, 10)));
    expectInvalidGrant(await refresh(bThird.refresh_token, secondsAfter(issuedAt, 11)));

    // Inside, and then the replaced successor shows up after all: two holders, the family ends.
    const c = success(await exchange(await approvedCode(user.id, issuedAt), issuedAt));
    const cNext = success(await refresh(c.refresh_token, issuedAt));
    const cRetry = success(await refresh(c.refresh_token, secondsAfter(issuedAt, 2)));
    expectInvalidGrant(await refresh(cNext.refresh_token, secondsAfter(issuedAt, 3)));
    expectInvalidGrant(await refresh(cRetry.refresh_token, secondsAfter(issuedAt, 4)));
  });

  it("the grace window is a setting: 0 turns it off", async () => {
    const user = await createUser();
    const issuedAt = new Date();
    const first = success(await exchange(await approvedCode(user.id, issuedAt), issuedAt));
    success(await refresh(first.refresh_token, issuedAt));
    const result = await handleTokenRequest(
      {
        prisma: database.prisma,
        signingKey: key,
        syncUrl: SYNC_URL,
        refreshGraceSeconds: 0,
        now: () => issuedAt,
      },
      { grant_type: "refresh_token", refresh_token: first.refresh_token },
    );
    expectInvalidGrant(result);
  });

  it("refuses a revoked device", async () => {
    const user = await createUser();
    const first = success(await exchange(await approvedCode(user.id)));
    await database.prisma.device.update({
      where: { id: first.device_id },
      data: { revokedAt: new Date() },
    });
    const result = await refresh(first.refresh_token);
    expectInvalidGrant(result);
    expect(result.body).toMatchObject({ reason: "device_revoked" });
  });

  it("says device_revoked, not just 'token revoked', when /account revoked the device", async () => {
    // devices.revoke ends the device and its refresh tokens in one transaction.
    const user = await createUser();
    const first = success(await exchange(await approvedCode(user.id)));
    const now = new Date();
    await database.prisma.device.update({
      where: { id: first.device_id },
      data: { revokedAt: now },
    });
    await database.prisma.refreshToken.updateMany({
      where: { deviceId: first.device_id },
      data: { revokedAt: now },
    });
    const result = await refresh(first.refresh_token);
    expectInvalidGrant(result);
    expect(result.body).toMatchObject({ reason: "device_revoked" });
  });

  it("refuses an expired refresh token (inject the clock)", async () => {
    const user = await createUser();
    const issuedAt = new Date();
    const first = success(await exchange(await approvedCode(user.id, issuedAt), issuedAt));
    const later = new Date(issuedAt.getTime() + 31 * 24 * 3600 * 1000);
    expectInvalidGrant(await refresh(first.refresh_token, later));
  });

  it("refuses an unknown token", async () => {
    expectInvalidGrant(await refresh("not-a-token"));
  });
});

describe("revocation (RFC 7009): the desktop signs out", () => {
  it("ends the token's family and the device's binding; unknown tokens change nothing", async () => {
    const user = await createUser();
    const first = success(await exchange(await approvedCode(user.id)));
    const second = success(await refresh(first.refresh_token));
    const told: string[] = [];
    const deps = {
      prisma: database.prisma,
      revokeOnSyncServer: async ({ deviceId }: { deviceId: string }) => {
        told.push(deviceId);
      },
    };
    await revokeRefreshToken(deps, second.refresh_token);
    expect(told).toEqual([first.device_id]);

    expectInvalidGrant(await refresh(second.refresh_token));
    const device = await database.prisma.device.findUniqueOrThrow({
      where: { id: first.device_id },
    });
    expect(device.revokedAt).not.toBeNull();
    const family = await database.prisma.refreshToken.findMany({
      where: { deviceId: first.device_id },
    });
    expect(family.every((row) => row.revokedAt !== null)).toBe(true);

    const other = success(await exchange(await approvedCode(user.id)));
    await revokeRefreshToken(deps, "not-a-token");
    expect(told).toEqual([first.device_id]);
    expect(success(await refresh(other.refresh_token)).device_id).toBe(other.device_id);
  });
});
