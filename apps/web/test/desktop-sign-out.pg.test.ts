import { randomUUID } from "node:crypto";
import type { AppRouter } from "@chorus/api";
import {
  codeChallengeS256,
  createVerifier,
  generateCodeVerifier,
  generateOAuthState,
  generateSigningKey,
  type SigningKey,
} from "@chorus/auth";
import { createSyncServer, type SyncServer } from "@chorus/sync-server/server";
import { waitUntil } from "@chorus/testing";
import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket as NodeWebSocket } from "ws";
import {
  handleTokenRequest,
  revokeRefreshToken,
  syncServerRevoker,
  type TokenSuccess,
} from "@/server/desktop-auth";
import { approveDesktopLogin } from "@/server/desktop-login";
import { testPrisma } from "./database";

/*
 * The desktop's "Sign out" against a real sync server: the device's open socket closes at once,
 * as it does when the device is revoked from /account (one revocation, whoever asks).
 */
const WebSocket = NodeWebSocket as unknown as typeof globalThis.WebSocket;
const CLOSE_DEVICE_REVOKED = 4003;

const database = testPrisma(6);
let key: SigningKey;
let server: SyncServer;
let syncUrl: string;

// The sync server in this process, on port 0: its own module, not a process of its own, because
// the web app's types (next-auth's ProcessEnv) cannot compile the process harness.
beforeAll(async () => {
  key = await generateSigningKey();
  const verifier = await createVerifier({ publicKey: key.publicKey });
  server = createSyncServer({
    prisma: database.prisma,
    logger: pino({ level: "silent" }),
    verifyToken: (token) => verifier.verify(token),
    ackFlushIntervalMs: 60_000,
  });
  const address = await server.listen(0, "127.0.0.1");
  syncUrl = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await server.close();
});

/** A desktop bound through the real code exchange. */
async function boundDesktop(): Promise<TokenSuccess> {
  const user = await database.prisma.user.create({
    data: { email: `${randomUUID()}@example.test`, passwordHash: "unused" },
  });
  const verifier = generateCodeVerifier();
  const request = {
    redirect_uri: "http://127.0.0.1:45678/callback",
    state: generateOAuthState(),
    code_challenge: codeChallengeS256(verifier),
    code_challenge_method: "S256" as const,
    device_name: "Laptop",
    platform: "linux",
    app_version: "1.0.0",
  };
  const { redirectTo } = await approveDesktopLogin(database.prisma, user.id, request);
  const code = new URL(redirectTo).searchParams.get("code") ?? "";
  const result = await handleTokenRequest(
    { prisma: database.prisma, signingKey: key, syncUrl },
    {
      grant_type: "authorization_code",
      code,
      code_verifier: verifier,
      redirect_uri: request.redirect_uri,
    },
  );
  if (result.status !== 200) throw new Error(JSON.stringify(result.body));
  return result.body;
}

describe("desktop sign-out", () => {
  it("desktop sign-out closes the device's open socket at once", async () => {
    const desktop = await boundDesktop();
    const closes: number[] = [];
    let started = false;
    const raw = createWSClient({
      url: `${syncUrl.replace("http", "ws")}/trpc`,
      WebSocket,
      connectionParams: () => ({ token: desktop.access_token }),
      onClose: (cause) => closes.push(cause?.code ?? 0),
    });
    try {
      const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: raw })] });
      const subscription = client.sync.subscribe.subscribe(
        { lastEventId: 0 },
        { onStarted: () => (started = true), onError: () => {} },
      );
      await waitUntil("the subscription to start", () => started);

      await revokeRefreshToken(
        { prisma: database.prisma, revokeOnSyncServer: syncServerRevoker(key, syncUrl) },
        desktop.refresh_token,
      );

      await waitUntil("the device's socket to close", () => closes.length > 0);
      expect(closes[0]).toBe(CLOSE_DEVICE_REVOKED);
      subscription.unsubscribe();
      const device = await database.prisma.device.findUniqueOrThrow({
        where: { id: desktop.device_id },
      });
      expect(device.revokedAt).not.toBeNull();
    } finally {
      await raw.close();
    }
  }, 90_000);

  it("sign-out still revokes when the sync server cannot be reached", async () => {
    const desktop = await boundDesktop();
    const warnings: string[] = [];
    await revokeRefreshToken(
      {
        prisma: database.prisma,
        revokeOnSyncServer: syncServerRevoker(key, "http://127.0.0.1:9"),
        warn: (message) => warnings.push(message),
      },
      desktop.refresh_token,
    );
    const device = await database.prisma.device.findUniqueOrThrow({
      where: { id: desktop.device_id },
    });
    expect(device.revokedAt).not.toBeNull();
    const tokens = await database.prisma.refreshToken.findMany({
      where: { deviceId: desktop.device_id },
    });
    expect(tokens.every((token) => token.revokedAt !== null)).toBe(true);
    expect(warnings).toHaveLength(1);
  });
});
