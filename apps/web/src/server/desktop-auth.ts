import { type DeviceRef, markDeviceRevoked } from "@chorus/api/devices";
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
  /** How long a rotated refresh token still yields a successor (REFRESH_GRACE_SECONDS). */
  refreshGraceSeconds?: number;
  now?: () => Date;
  /** A code exchange bound a new device (the owner is told by mail). Not awaited. */
  onDeviceBound?(deviceId: string): void;
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
    // A device's token never carries the account's admin role: administration is done on the web.
    { kind: "device", userId: grant.user.id, deviceId: grant.deviceId, role: "user" },
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

/**
 * In one transaction: retires the family's token `retiringId` (rotated, or revoked when a
 * successor is replaced) unless another request already did, and stores `next` as the family's
 * new token. False when the other request got there first (nothing is written).
 */
async function retireAndSucceed(
  prisma: PrismaClient,
  family: { familyId: string; userId: string; deviceId: string },
  retiringId: string,
  retire: { rotatedAt: Date } | { revokedAt: Date },
  next: string,
  now: Date,
): Promise<boolean> {
  return await prisma.$transaction(async (tx) => {
    const { count } = await tx.refreshToken.updateMany({
      where: { id: retiringId, rotatedAt: null, revokedAt: null },
      data: retire,
    });
    if (count === 0) return false;
    await tx.refreshToken.create({
      data: {
        tokenHash: hashRefreshToken(next),
        familyId: family.familyId,
        userId: family.userId,
        deviceId: family.deviceId,
        expiresAt: refreshExpiry(now),
        createdAt: now,
      },
    });
    return true;
  });
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
  deps.onDeviceBound?.(granted.deviceId);
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
  // Revoking a device also revokes its tokens: say which happened, the device acts on it.
  if (row.device.revokedAt) {
    await revokeFamily(prisma, row.familyId, now);
    return {
      status: 400,
      body: {
        error: "invalid_grant",
        error_description: "this device was revoked; sign in again from the desktop app",
        reason: "device_revoked",
      },
    };
  }
  if (row.revokedAt) {
    // Also a successor replaced within the grace window: if its holder shows up after all,
    // two parties hold this family's secrets, and neither keeps it.
    await revokeFamily(prisma, row.familyId, now);
    return invalidGrant("the refresh token was revoked; sign in again");
  }
  if (row.rotatedAt) {
    const replaced = await replaceUnusedSuccessor(deps, row, now);
    if (replaced) return replaced;
    await revokeFamily(prisma, row.familyId, now);
    return invalidGrant("the refresh token was already used; every session it led to is revoked");
  }
  if (row.expiresAt.getTime() <= now.getTime()) {
    return invalidGrant("the refresh token has expired; sign in again");
  }
  const next = generateRefreshToken();
  const rotated = await retireAndSucceed(prisma, row, row.id, { rotatedAt: now }, next, now);
  if (!rotated) {
    // Another request rotated it between our read and our write: the same token twice. Within
    // the grace window that is a retry (or two refreshes of one desktop at once).
    const again = await prisma.refreshToken.findUnique({
      where: { id: row.id },
      select: { rotatedAt: true },
    });
    const replaced = await replaceUnusedSuccessor(
      deps,
      { ...row, rotatedAt: again?.rotatedAt ?? null },
      now,
    );
    if (replaced) return replaced;
    await revokeFamily(prisma, row.familyId, now);
    return invalidGrant("the refresh token was already used; every session it led to is revoked");
  }
  return issueTokens(deps, now, { user: row.user, deviceId: row.deviceId, refreshToken: next });
}

/** How long a rotated refresh token may be presented again for a fresh successor (default). */
export const DEFAULT_REFRESH_GRACE_SECONDS = 60;

/**
 * The grace window of a rotated refresh token. A refresh whose answer was lost (network cut,
 * process killed between the server's commit and the client's write) leaves the desktop with
 * the token just rotated: presented again, without grace, that is reuse and signs the device
 * out for good. Within the window, as long as its successor was never used, the old token gets
 * a new successor and the unused one is revoked; so the family still has one live token.
 * Outside the window, or once the successor was used (the client did hear the answer), the
 * old token is reuse: the whole family is revoked. A replaced successor presented later
 * revokes the family too (both parties would otherwise keep a session).
 *
 * The successor is found without a link column: a rotation creates it in the same transaction,
 * with created_at equal to the old token's rotated_at; later grace replacements come after.
 */
async function replaceUnusedSuccessor(
  deps: TokenEndpointDeps,
  row: {
    id: string;
    familyId: string;
    userId: string;
    deviceId: string;
    rotatedAt: Date | null;
    expiresAt: Date;
    device: { revokedAt: Date | null };
    user: { id: string; email: string; role: "user" | "admin" };
  },
  now: Date,
): Promise<TokenResult | null> {
  const { prisma } = deps;
  const graceMs = (deps.refreshGraceSeconds ?? DEFAULT_REFRESH_GRACE_SECONDS) * 1000;
  if (!row.rotatedAt || graceMs <= 0) return null;
  if (now.getTime() - row.rotatedAt.getTime() > graceMs) return null;
  if (row.expiresAt.getTime() <= now.getTime() || row.device.revokedAt) return null;
  const later = await prisma.refreshToken.findMany({
    where: { familyId: row.familyId, id: { not: row.id }, createdAt: { gte: row.rotatedAt } },
    orderBy: { createdAt: "desc" },
  });
  // The successor chain went on from here: the client heard an answer and used it.
  if (later.some((token) => token.rotatedAt !== null)) return null;
  const successor = later.find((token) => token.revokedAt === null);
  if (!successor) return null;

  const next = generateRefreshToken();
  const replaced = await retireAndSucceed(prisma, row, successor.id, { revokedAt: now }, next, now);
  if (!replaced) return null;
  return issueTokens(deps, now, { user: row.user, deviceId: row.deviceId, refreshToken: next });
}

export interface RevocationDeps {
  prisma: PrismaClient;
  /**
   * Has the sync server revoke the device (its devices.revoke: the one revocation, which also
   * drops the device's cached status and closes its sockets at once on every replica).
   */
  revokeOnSyncServer(device: DeviceRef): Promise<void>;
  /** Where a failed request to the sync server is reported. */
  warn?: (message: string, detail: Record<string, unknown>) => void;
}

/**
 * RFC 7009 revocation of a refresh token: the desktop's "Sign out". Ends the device's binding and
 * every refresh token it holds (the device shows as revoked in /account), then has the sync server
 * revoke it too, which closes its open sockets at once. The revocation is recorded here first, so
 * it stands even when the sync server cannot be reached; then the device's calls are refused
 * within seconds (the server's status cache) and its sockets close when their token expires.
 * Unknown tokens are ignored, so the endpoint reveals nothing.
 */
export async function revokeRefreshToken(
  deps: RevocationDeps,
  presented: string,
  now: Date = new Date(),
): Promise<void> {
  const row = await deps.prisma.refreshToken.findUnique({
    where: { tokenHash: hashRefreshToken(presented) },
    select: { familyId: true, deviceId: true, userId: true },
  });
  if (!row) return;
  const device = { userId: row.userId, deviceId: row.deviceId };
  await markDeviceRevoked(deps.prisma, device, now);
  try {
    await deps.revokeOnSyncServer(device);
  } catch (error) {
    deps.warn?.("sign-out: the sync server was not told; the device's sockets close at expiry", {
      ...device,
      error: (error as Error).message,
    });
  }
}

/**
 * Calls the sync server's devices.revoke for the device's user, with a web token minted for this
 * one call (a minute's life, the user role).
 */
export function syncServerRevoker(
  signingKey: SigningKey,
  syncUrl: string,
  fetchImpl: typeof fetch = fetch,
): (device: DeviceRef) => Promise<void> {
  return async ({ userId, deviceId }) => {
    const { token } = await mintAccessToken(
      signingKey,
      { kind: "web", userId, role: "user" },
      { ttlSeconds: 60 },
    );
    const response = await fetchImpl(new URL("/trpc/devices.revoke", syncUrl), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ deviceId }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`the sync server answered ${response.status}`);
  };
}
