import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  exportPublicJwks,
  generateSigningKey,
  mintAccessToken,
  type SigningKey,
} from "@chorus/auth";
import { createTestDatabase, type TestDatabase } from "@chorus/db/testing";
import { type SyncSession, staticSession } from "@chorus/desktop-sync";
import { SyncServerProcess } from "@chorus/sync-server/testing";
import pg from "pg";

/*
 * A real sync server for the engine's tests: the built apps/sync-server (dist/main.js) as a
 * child process on port 0 (@chorus/sync-server/testing), over a fresh migrated database
 * (@chorus/db/testing), verifying tokens this backend mints with its own key. The process can
 * be killed for real (SIGKILL) and restarted on the same port.
 */

export { SyncServerProcess };

export interface TestAccount {
  userId: string;
  /** A device row of this user, plus a session that mints fresh tokens for it. */
  device(name?: string, syncUrl?: string): Promise<{ deviceId: string; session: SyncSession }>;
}

export interface TestBackendOptions {
  /** Extra sync-server settings (RATE_LIMITS, ...). */
  env?: Record<string, string>;
  /**
   * Verify tokens the way production does, by `kid` against a JWKS URL (served here, as the web
   * app serves its own), so `rotateKey()` can switch the signing key. Default: one fixed key.
   */
  jwks?: boolean;
}

export class TestBackend {
  /** The keys the JWKS publishes: the current one first, then the previous. */
  private published: SigningKey[];

  private constructor(
    readonly db: TestDatabase,
    readonly pool: pg.Pool,
    private currentKey: SigningKey,
    readonly server: SyncServerProcess,
    private readonly jwksServer: Server | null,
  ) {
    this.published = [currentKey];
  }

  static async start(options: TestBackendOptions = {}): Promise<TestBackend> {
    const db = await createTestDatabase();
    const key = await generateSigningKey();
    let backend: TestBackend | undefined;
    const jwksServer = options.jwks
      ? createServer((_req, res) => {
          void exportPublicJwks(backend?.published ?? [key]).then((jwks) => {
            res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
          });
        })
      : null;
    if (jwksServer)
      await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
    const server = new SyncServerProcess({
      env: {
        ...options.env,
        DATABASE_URL: db.url,
        ...(jwksServer
          ? {
              AUTH_JWKS_URL: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`,
            }
          : { AUTH_PUBLIC_KEY: JSON.stringify((await exportPublicJwks([key])).keys[0]) }),
        LOG_LEVEL: "info",
        NODE_ENV: "test",
        ACK_FLUSH_INTERVAL_MS: "200",
        SHUTDOWN_GRACE_MS: "3000",
      },
    });
    await server.start();
    const pool = new pg.Pool({ connectionString: db.url, max: 4 });
    // Dropping the database terminates idle connections; that is the end, not an error.
    pool.on("error", () => {});
    backend = new TestBackend(db, pool, key, server, jwksServer);
    return backend;
  }

  /** The key tokens are signed with now. */
  get key(): SigningKey {
    return this.currentKey;
  }

  /**
   * Rotates the signing key as an operator does (docs/deploy.md): a new key signs from now on,
   * and the JWKS publishes it beside the previous one. Needs `jwks: true`.
   */
  async rotateKey(): Promise<SigningKey> {
    if (!this.jwksServer) throw new Error("rotateKey needs TestBackend.start({ jwks: true })");
    const next = await generateSigningKey();
    this.published = [next, this.currentKey];
    this.currentKey = next;
    return next;
  }

  get syncUrl(): string {
    return this.server.url;
  }

  async createAccount(): Promise<TestAccount> {
    const userId = randomUUID();
    await this.pool.query(
      "INSERT INTO users (id, email, password_hash, updated_at) VALUES ($1, $2, 'unused', now())",
      [userId, `${userId}@example.test`],
    );
    return {
      userId,
      device: async (name = "Test desktop", syncUrl?: string) => {
        const deviceId = randomUUID();
        await this.pool.query(
          "INSERT INTO devices (id, user_id, name, platform, app_version) VALUES ($1, $2, $3, 'linux', '0.1.0')",
          [deviceId, userId, name],
        );
        return { deviceId, session: this.session(userId, deviceId, syncUrl) };
      },
    };
  }

  /** A session whose token is re-minted when it is within a minute of expiring. */
  session(userId: string, deviceId: string, syncUrl = this.syncUrl): SyncSession {
    let cached: { token: string; expiresAt: number } | null = null;
    return staticSession({
      syncUrl,
      userId,
      deviceId,
      token: async () => {
        if (!cached || cached.expiresAt - 60_000 < Date.now()) {
          const minted = await this.mint(userId, deviceId);
          cached = { token: minted, expiresAt: Date.now() + 600_000 };
        }
        return cached.token;
      },
    });
  }

  /** A session for an existing device row (a reopened profile). */
  sessionFor(userId: string, deviceId: string): SyncSession {
    return this.session(userId, deviceId);
  }

  async mint(userId: string, deviceId: string): Promise<string> {
    const { token } = await mintAccessToken(this.key, {
      userId,
      role: "user",
      kind: "device",
      deviceId,
    });
    return token;
  }

  /** Rows of the user's log, in id order. */
  async ops(userId: string): Promise<
    {
      id: number;
      operationId: string;
      deviceId: string;
      lamportTs: number;
      entityId: string;
      value: unknown;
    }[]
  > {
    const { rows } = await this.pool.query<{
      id: string;
      operation_id: string;
      device_id: string;
      lamport_ts: string;
      entity_id: string;
      value: unknown;
    }>(
      "SELECT id, operation_id, device_id, lamport_ts, entity_id, value FROM sync_op WHERE user_id = $1 ORDER BY id",
      [userId],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      operationId: r.operation_id,
      deviceId: r.device_id,
      lamportTs: Number(r.lamport_ts),
      entityId: r.entity_id,
      value: r.value,
    }));
  }

  /** Sets the compaction watermark directly (compaction itself is the server's concern). */
  async setWatermark(userId: string, compactedUpTo: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO sync_compaction_watermark (user_id, compacted_up_to, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (user_id) DO UPDATE SET compacted_up_to = EXCLUDED.compacted_up_to, updated_at = now()`,
      [userId, compactedUpTo],
    );
  }

  async close(): Promise<void> {
    await this.server.stop();
    await new Promise<void>((resolve) =>
      this.jwksServer ? this.jwksServer.close(() => resolve()) : resolve(),
    );
    await this.pool.end();
    await this.db.drop();
  }
}
