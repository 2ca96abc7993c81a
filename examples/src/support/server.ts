import { randomUUID } from "node:crypto";
import { exportPublicJwks, generateSigningKey, mintAccessToken } from "@chorus/auth";
import { createTestDatabase } from "@chorus/db/testing";
import { SyncServerProcess } from "@chorus/sync-server/testing";
import pg from "pg";

/**
 * A real sync server (the built apps/sync-server, port 0) over a fresh migrated database,
 * verifying tokens signed with a key made here; device rows and tokens for test accounts.
 */
export async function startServer() {
  const db = await createTestDatabase();
  const key = await generateSigningKey();
  const server = new SyncServerProcess({
    env: {
      DATABASE_URL: db.url,
      AUTH_PUBLIC_KEY: JSON.stringify((await exportPublicJwks([key])).keys[0]),
      LOG_LEVEL: "warn",
      NODE_ENV: "test",
      ACK_FLUSH_INTERVAL_MS: "200",
      SHUTDOWN_GRACE_MS: "3000",
    },
  });
  await server.start();
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on("error", () => {});
  return {
    syncUrl: server.url,
    async account() {
      const userId = randomUUID();
      await pool.query(
        "INSERT INTO users (id, email, password_hash, updated_at) VALUES ($1, $2, 'unused', now())",
        [userId, `${userId}@example.test`],
      );
      return {
        userId,
        async device() {
          const deviceId = randomUUID();
          await pool.query(
            "INSERT INTO devices (id, user_id, name, platform, app_version) VALUES ($1, $2, 'Example', 'linux', '0.1.0')",
            [deviceId, userId],
          );
          const { token } = await mintAccessToken(key, {
            userId,
            role: "user",
            kind: "device",
            deviceId,
          });
          return { syncUrl: server.url, token, userId, deviceId };
        },
      };
    },
    /** Every stored op of the user, as the server holds it (what travelled on the wire). */
    async ops(userId: string): Promise<Array<Record<string, unknown>>> {
      const { rows } = await pool.query(
        "SELECT entity, entity_id, field, op, value FROM sync_op WHERE user_id = $1 ORDER BY id",
        [userId],
      );
      return rows;
    },
    async close() {
      await server.stop();
      await pool.end();
      await db.drop();
    },
  };
}
