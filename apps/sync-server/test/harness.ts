import { randomUUID } from "node:crypto";
import type {
  AppRouter,
  BlobSettings,
  BlobStore,
  Bus,
  RateLimitConfig,
  ResourceBounds,
} from "@chorus/api";
import { createVerifier, generateSigningKey, mintAccessToken, type SigningKey } from "@chorus/auth";
import { createPrisma, type PrismaClient } from "@chorus/db";
import { createTestDatabase, type TestDatabase } from "@chorus/db/testing";
import type { OpInput } from "@chorus/protocol";
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  httpLink,
  type TRPCClient,
  TRPCClientError,
  wsLink,
} from "@trpc/client";
import pino from "pino";
import { WebSocket as NodeWebSocket } from "ws";
import { type ConnectionBounds, createSyncServer, type SyncServer } from "../src/server.js";

// Node 20 has no global WebSocket; ws is API-compatible for tRPC's client.
export const WebSocket = NodeWebSocket as unknown as typeof globalThis.WebSocket;

export const TEST_WEB_ORIGIN = "http://127.0.0.1:3999";

export interface HarnessOptions {
  ackFlushIntervalMs?: number;
  bounds?: Partial<ResourceBounds>;
  connections?: Partial<ConnectionBounds>;
  /** Database pool size of the server (default 12). */
  poolSize?: number;
  rateLimits?: RateLimitConfig;
  slowConsumerBytes?: number;
  bus?: Bus;
  lastSeenThrottleMs?: number;
  /** Blob store and bounds; without it /blobs answers 404. */
  blobs?: { store: BlobStore; settings?: Partial<BlobSettings> };
}

export interface TestDevice {
  userId: string;
  deviceId: string;
  token: string;
  http: TRPCClient<AppRouter>;
  /** A WebSocket client; closed by harness.close(). */
  ws(): {
    client: TRPCClient<AppRouter>;
    close(): Promise<void>;
    raw: ReturnType<typeof createWSClient>;
  };
}

/** A real sync server on port 0 over a fresh database, with users, devices and tokens. */
export class Harness {
  private closers: Array<() => Promise<void>> = [];

  private constructor(
    readonly db: TestDatabase,
    readonly prisma: PrismaClient,
    readonly server: SyncServer,
    readonly key: SigningKey,
    readonly base: string,
  ) {}

  static async start(options: HarnessOptions = {}): Promise<Harness> {
    const db = await createTestDatabase();
    const prisma = createPrisma(db.url, { max: options.poolSize ?? 12 });
    const key = await generateSigningKey();
    const verifier = await createVerifier({ publicKey: key.publicKey });
    const server = createSyncServer({
      prisma,
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
      verifyToken: (token) => verifier.verify(token),
      ackFlushIntervalMs: options.ackFlushIntervalMs ?? 60_000,
      ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}),
      ...(options.slowConsumerBytes ? { slowConsumerBytes: options.slowConsumerBytes } : {}),
      ...(options.bus ? { bus: options.bus } : {}),
      ...(options.bounds ? { bounds: options.bounds } : {}),
      ...(options.connections ? { connections: options.connections } : {}),
      ...(options.blobs ? { blobs: options.blobs } : {}),
      ...(options.lastSeenThrottleMs !== undefined
        ? { lastSeenThrottleMs: options.lastSeenThrottleMs }
        : {}),
      allowedOrigins: [TEST_WEB_ORIGIN],
      databaseUrl: db.url,
    });
    const address = await server.listen(0, "127.0.0.1");
    return new Harness(db, prisma, server, key, `127.0.0.1:${address.port}`);
  }

  get httpUrl(): string {
    return `http://${this.base}/trpc`;
  }

  async createUser(): Promise<string> {
    const user = await this.prisma.user.create({
      data: { email: `${randomUUID()}@example.test`, passwordHash: "unused-in-sync-tests" },
    });
    return user.id;
  }

  /** A web access token (what the browser console uses). */
  async webClientToken(userId: string, role: "user" | "admin" = "user"): Promise<string> {
    return (await mintAccessToken(this.key, { userId, role, kind: "web" })).token;
  }

  /** A client with a web token (what the browser console uses) for a user of the given role. */
  async webClient(userId: string, role: "user" | "admin"): Promise<TRPCClient<AppRouter>> {
    const { token } = await mintAccessToken(this.key, { userId, role, kind: "web" });
    return this.clientWithHeader(`Bearer ${token}`);
  }

  async createDevice(userId?: string, name = "Test desktop"): Promise<TestDevice> {
    const owner = userId ?? (await this.createUser());
    const device = await this.prisma.device.create({
      data: { userId: owner, name, platform: "linux", appVersion: "0.1.0" },
    });
    const { token } = await mintAccessToken(this.key, {
      userId: owner,
      role: "user",
      kind: "device",
      deviceId: device.id,
    });
    return this.deviceWithToken(owner, device.id, token);
  }

  deviceWithToken(userId: string, deviceId: string, token: string): TestDevice {
    const headers = { authorization: `Bearer ${token}` };
    return {
      userId,
      deviceId,
      token,
      http: createTRPCClient<AppRouter>({
        links: [httpBatchLink({ url: this.httpUrl, headers })],
      }),
      ws: () => {
        const raw = createWSClient({
          url: `ws://${this.base}/trpc`,
          WebSocket,
          connectionParams: () => ({ token }),
          retryDelayMs: () => 100,
        });
        const close = () => raw.close();
        this.closers.push(close);
        return {
          client: createTRPCClient<AppRouter>({ links: [wsLink({ client: raw })] }),
          close,
          raw,
        };
      },
    };
  }

  /** An unbatched client with an arbitrary Authorization header (or none). */
  clientWithHeader(authorization: string | undefined): TRPCClient<AppRouter> {
    return createTRPCClient<AppRouter>({
      links: [
        httpLink({
          url: this.httpUrl,
          headers: authorization ? { authorization } : {},
        }),
      ],
    });
  }

  async opCount(userId: string): Promise<number> {
    return this.prisma.syncOp.count({ where: { userId } });
  }

  async cursorOf(deviceId: string): Promise<number | null> {
    const cursor = await this.prisma.deviceSyncCursor.findUnique({ where: { deviceId } });
    return cursor ? Number(cursor.lastSeenId) : null;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.closers.map((close) => close()));
    await this.server.close();
    await this.prisma.$disconnect();
    await this.db.drop();
  }
}

/** Rate limits high enough that load-shaped tests never hit them. */
export const GENEROUS_LIMITS: RateLimitConfig = {
  push: { points: 10_000, durationSeconds: 1 },
  pull: { points: 10_000, durationSeconds: 1 },
  ack: { points: 10_000, durationSeconds: 1 },
  subscribe: { points: 1_000, durationSeconds: 1 },
};

/** The tRPC error a call failed with (fails the test if it succeeded or failed otherwise). */
export async function failure(promise: Promise<unknown>): Promise<TRPCClientError<never>> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCClientError)) throw new Error(`expected a tRPC error, got ${error}`);
  return error as TRPCClientError<never>;
}

let lamportSeed = 0;
/** Ops with fresh ids and increasing Lamport timestamps starting after `from`. */
export function makeOps(count: number, from = lamportSeed, entityId = randomUUID()): OpInput[] {
  const ops = Array.from({ length: count }, (_, i) => ({
    operationId: randomUUID(),
    lamportTs: from + i + 1,
    entity: "playlist",
    entityId,
    field: "name",
    op: "set" as const,
    value: `name ${from + i + 1}`,
  }));
  lamportSeed = Math.max(lamportSeed, from + count);
  return ops;
}
