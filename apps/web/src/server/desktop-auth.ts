import {
  DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
  generateRefreshToken,
  hashDesktopCode,
  hashRefreshToken,
  mintAccessToken,
  REFRESH_TOKEN_TTL_SECONDS,
  type SigningKey,
  type TokenEndpointError,
  type TokenEndpointResponse,
  verifyCodeChallenge,
} from "@chorus/auth";
import type { PrismaClient } from "@chorus/db";
import { z } from "zod";

/*
 * POST /api/desktop/token (ADR 0002 §3-4): exchanges a one-time desktop code for a device's
 * access and refresh tokens, and rotates refresh tokens. Plain functions over Prisma, so the
 * rules are tested without Next.
 *
 * Refresh-token families: every refresh token descending from one code shares a familyId, the
 * id of that code's row. Presenting a rotated token, or the code a second time, revokes the
 * whole family: whoever holds the newest token must sign in again, which is what we want when
 * one of two parties holding the same secret is an attacker.
 */

export interface TokenEndpointDeps {
  prisma: PrismaClient;
  signingKey: SigningKey;
  /** The sync server as the engine reaches it (SYNC_URL). */
  syncUrl: string;
  now?: () => Date;
}

/** The token endpoint's answers are @chorus/auth's schemas, which the desktop engine parses. */
export type TokenSuccess = TokenEndpointResponse;
export type TokenFailure = TokenEndpointError;

export type TokenResult = { status: 200; body: TokenSuccess } | { status: 400; body: TokenFailure };

const TokenRequest = z.discriminatedUnion("grant_type", [
  z.object({
    grant_type: z.literal("authorization_code"),
    code: z.string().min(1).max(512),
    code_verifier: z.string().min(1).max(512),
    redirect_uri: z.string().min(1).max(2048),
  }),
  z.object({
    grant_type: z.literal("refresh_token"),
    refresh_token: z.string().min(1).max(512),
  }),
]);

function invalidRequest(description: string): TokenResult {
  return { status: 400, body: { error: "invalid_request", error_description: description } };
}

function invalidGrant(description: string): TokenResult {
  return { status: 400, body: { error: "invalid_grant", error_description: description } };
}

/** Handles one token request body (already parsed from JSON or a form). */
export async function handleTokenRequest(
  deps: TokenEndpointDeps,
  body: unknown,
): Promise<TokenResult> {
  const grantType =
    typeof body === "object" && body !== null && "grant_type" in body ? body.grant_type : undefined;
  if (grantType !== "authorization_code" && grantType !== "refresh_token") {
    return invalidRequest("grant_type must be authorization_code or refresh_token");
  }
  const parsed = TokenRequest.safeParse(body);
  if (!parsed.success) {
    const missing = parsed.error.issues.map((issue) => issue.path.join(".")).join(", ");
    return invalidRequest(`missing or malformed: ${missing}`);
  }
  const request = parsed.data;
  return request.grant_type === "authorization_code"
    ? exchangeCode(deps, request.code, request.code_verifier, request.redirect_uri)
    : refresh(deps, request.refresh_token);
}

async function revokeFamily(prisma: PrismaClient, familyId: string, now: Date): Promise<void> {
  await prisma.refreshToken.updateMany({
    where: { familyId, revokedAt: null },
    data: { revokedAt: now },
  });
}

async function issueTokens(
  deps: TokenEndpointDeps,
  now: Date,
  grant: {
    user: { id: string; email: string; role: "user" | "admin" };
    deviceId: string;
    refreshToken: string;
  },
): Promise<TokenResult> {
  const { token } = await mintAccessToken(
    deps.signingKey,
    { kind: "device", userId: grant.user.id, deviceId: grant.deviceId, role: grant.user.role },
    { ttlSeconds: DEFAULT_ACCESS_TOKEN_TTL_SECONDS, now: () => now },
  );
  return {
    status: 200,
    body: {
      access_token: token,
      token_type: "Bearer",
      expires_in: DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
      refresh_token: grant.refreshToken,
      refresh_expires_in: REFRESH_TOKEN_TTL_SECONDS,
      device_id: grant.deviceId,
      user_id: grant.user.id,
      email: grant.user.email,
      sync_url: deps.syncUrl,
    },
  };
}

function refreshExpiry(now: Date): Date {
  return new Date(now.getTime() + REFRESH_TOKEN_TTL_SECONDS * 1000);
}

/** authorization_code: one use, within its life, same redirect_uri, matching PKCE verifier. */
export async function exchangeCode(
  deps: TokenEndpointDeps,
  code: string,
  codeVerifier: string,
  redirectUri: string,
): Promise<TokenResult> {
  const { prisma } = deps;
  const now = deps.now?.() ?? new Date();
  const row = await prisma.desktopAuthCode.findUnique({
    where: { codeHash: hashDesktopCode(code) },
  });
  if (!row) return invalidGrant("unknown code");

  // Claimed before any other check, atomically: of two concurrent exchanges one wins, and a
  // code presented with a wrong verifier is burnt, not left for another guess.
  const claimed = await prisma.desktopAuthCode.updateMany({
    where: { id: row.id, usedAt: null },
    data: { usedAt: now },
  });
  if (claimed.count === 0) {
    await revokeFamily(prisma, row.id, now);
    return invalidGrant("the code was already used; sign in again from the desktop app");
  }
  if (row.expiresAt.getTime() <= now.getTime()) {
    return invalidGrant("the code has expired; sign in again from the desktop app");
  }
  if (row.redirectUri !== redirectUri) {
    return invalidGrant("redirect_uri differs from the one the code was issued for");
  }
  if (!verifyCodeChallenge(codeVerifier, row.codeChallenge)) {
    return invalidGrant("code_verifier does not match the code_challenge");
  }

  const refreshToken = generateRefreshToken();
  const granted = await prisma.$transaction(async (tx) => {
    const user = await tx.user.findUnique({
      where: { id: row.userId },
      select: { id: true, email: true, role: true },
    });
    if (!user) return null;
    const device = await tx.device.create({
      data: {
        userId: user.id,
        name: row.deviceName,
        platform: row.platform,
        appVersion: row.appVersion,
        boundAt: now,
      },
      select: { id: true },
    });
    await tx.refreshToken.create({
      data: {
        tokenHash: hashRefreshToken(refreshToken),
        familyId: row.id,
        userId: user.id,
        deviceId: device.id,
        expiresAt: refreshExpiry(now),
        createdAt: now,
      },
    });
    return { user, deviceId: device.id };
  });
  if (!granted) return invalidGrant("the account no longer exists");
  return issueTokens(deps, now, { ...granted, refreshToken });
}

/** refresh_token: rotation; a rotated, revoked or expired token, or a revoked device, fails. */
export async function refresh(deps: TokenEndpointDeps, presented: string): Promise<TokenResult> {
  const { prisma } = deps;
  const now = deps.now?.() ?? new Date();
  const row = await prisma.refreshToken.findUnique({
    where: { tokenHash: hashRefreshToken(presented) },
    include: {
      device: { select: { revokedAt: true } },
      user: { select: { id: true, email: true, role: true } },
    },
  });
  if (!row) return invalidGrant("unknown refresh token");
  if (row.revokedAt) return invalidGrant("the refresh token was revoked; sign in again");
  if (row.rotatedAt) {
    await revokeFamily(prisma, row.familyId, now);
    return invalidGrant("the refresh token was already used; every session it led to is revoked");
  }
  if (row.expiresAt.getTime() <= now.getTime()) {
    return invalidGrant("the refresh token has expired; sign in again");
  }
  if (row.device.revokedAt) {
    await revokeFamily(prisma, row.familyId, now);
    return invalidGrant("this device was revoked; sign in again from the desktop app");
  }

  const next = generateRefreshToken();
  const rotated = await prisma.$transaction(async (tx) => {
    const { count } = await tx.refreshToken.updateMany({
      where: { id: row.id, rotatedAt: null, revokedAt: null },
      data: { rotatedAt: now },
    });
    if (count === 0) return false;
    await tx.refreshToken.create({
      data: {
        tokenHash: hashRefreshToken(next),
        familyId: row.familyId,
        userId: row.userId,
        deviceId: row.deviceId,
        expiresAt: refreshExpiry(now),
        createdAt: now,
      },
    });
    return true;
  });
  if (!rotated) {
    // Another request rotated it between our read and our write: the same token twice.
    await revokeFamily(prisma, row.familyId, now);
    return invalidGrant("the refresh token was already used; every session it led to is revoked");
  }
  return issueTokens(deps, now, { user: row.user, deviceId: row.deviceId, refreshToken: next });
}

/**
 * RFC 7009 revocation of a refresh token: the desktop's "Sign out". Ends the whole family and
 * the device's binding (the device shows as revoked in /account; its next call to the sync
 * server is refused). Unknown tokens are ignored, so the endpoint reveals nothing.
 */
export async function revokeRefreshToken(
  prisma: PrismaClient,
  presented: string,
  now: Date = new Date(),
): Promise<void> {
  const row = await prisma.refreshToken.findUnique({
    where: { tokenHash: hashRefreshToken(presented) },
    select: { familyId: true, deviceId: true },
  });
  if (!row) return;
  await prisma.$transaction([
    prisma.refreshToken.updateMany({
      where: { familyId: row.familyId, revokedAt: null },
      data: { revokedAt: now },
    }),
    prisma.device.updateMany({
      where: { id: row.deviceId, revokedAt: null },
      data: { revokedAt: now },
    }),
  ]);
}
