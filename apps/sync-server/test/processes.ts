import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AppRouter } from "@chorus/api";
import { loadOrCreateDevSigningKey, mintAccessToken, type SigningKey } from "@chorus/auth";
import { createPrisma, type PrismaClient } from "@chorus/db";
import { createTestDatabase, type TestDatabase } from "@chorus/db/testing";
import { createTRPCClient, createWSClient, httpLink, type TRPCClient, wsLink } from "@trpc/client";
import { afterAll, beforeAll } from "vitest";
import { SyncServerProcess } from "../src/testing.js";
import { WebSocket } from "./harness.js";

/** A sync server running as its own process (`src/main.ts` through tsx), which a test may SIGKILL. */
export type ServerProcess = SyncServerProcess;

/** A database, a signing key shared with the server processes, and users/devices/tokens. */
export class ProcessBed {
  readonly servers: ServerProcess[] = [];

  private constructor(
    readonly db: TestDatabase,
    readonly prisma: PrismaClient,
    readonly key: SigningKey,
    readonly keyFile: string,
  ) {}

  static async start(): Promise<ProcessBed> {
    const db = await createTestDatabase();
    const keyFile = join(mkdtempSync(join(tmpdir(), "chorus-proc-")), "key.json");
    return new ProcessBed(
      db,
      createPrisma(db.url, { max: 4 }),
      await loadOrCreateDevSigningKey(keyFile),
      keyFile,
    );
  }

  async server(env: Record<string, string> = {}): Promise<ServerProcess> {
    const server = new SyncServerProcess({
      entry: "source",
      baseEnv: "clean",
      env: {
        LOG_LEVEL: "warn",
        DATABASE_URL: this.db.url,
        CHORUS_DEV_KEY_FILE: this.keyFile,
        ACK_FLUSH_INTERVAL_MS: "1000",
        ...env,
      },
      echoStderr: true,
    });
    this.servers.push(server);
    await server.start();
    return server;
  }

  async user(role: "user" | "admin" = "user"): Promise<string> {
    const user = await this.prisma.user.create({
      data: { email: `${randomUUID()}@example.test`, passwordHash: "x", role },
    });
    return user.id;
  }

  async device(userId: string): Promise<{ userId: string; deviceId: string; token: string }> {
    const row = await this.prisma.device.create({
      data: { userId, name: "desktop", platform: "linux", appVersion: "0.1.0" },
    });
    const { token } = await mintAccessToken(this.key, {
      userId,
      role: "user",
      kind: "device",
      deviceId: row.id,
    });
    return { userId, deviceId: row.id, token };
  }

  async token(userId: string, role: "user" | "admin", kind: "web"): Promise<string> {
    return (await mintAccessToken(this.key, { userId, role, kind })).token;
  }

  async close(): Promise<void> {
    for (const server of this.servers) await server.kill();
    await this.prisma.$disconnect();
    await this.db.drop();
  }
}

export function httpClient(server: { address: string }, token: string): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `http://${server.address}/trpc`,
        headers: { authorization: `Bearer ${token}` },
      }),
    ],
  });
}

/** Full-jitter exponential backoff, as the device engine uses. */
export const jitteredBackoff = (attempt: number) =>
  Math.floor(Math.random() * Math.min(2_000, 50 * 2 ** attempt));

/** A WebSocket client whose target can change, as behind a load balancer. */
export function wsClient(target: () => { address: string }, token: string) {
  const raw = createWSClient({
    url: () => `ws://${target().address}/trpc`,
    WebSocket,
    connectionParams: () => ({ token }),
    retryDelayMs: jitteredBackoff,
  });
  return { raw, client: createTRPCClient<AppRouter>({ links: [wsLink({ client: raw })] }) };
}

/**
 * One ProcessBed for the whole test file, started before its tests (with a generous bound: it
 * creates a database) and closed after them. Read `.bed` inside hooks and tests.
 */
export function useProcessBed(): { bed: ProcessBed } {
  const handle = {} as { bed: ProcessBed };
  beforeAll(async () => {
    handle.bed = await ProcessBed.start();
  }, 60_000);
  afterAll(async () => {
    await handle.bed?.close();
  });
  return handle;
}
