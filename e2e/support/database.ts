import { readFileSync } from "node:fs";
import pg from "pg";
import { DATABASE_URL_FILE } from "./system.ts";

const DAY_MS = 86_400_000;

/** The e2e system's DATABASE_URL, as scripts/start.ts wrote it. */
export function e2eDatabaseUrl(): string {
  try {
    return readFileSync(DATABASE_URL_FILE, "utf8").trim();
  } catch {
    throw new Error(
      `${DATABASE_URL_FILE} is missing: the e2e system (scripts/start.ts with CHORUS_DATABASE_URL_FILE, see playwright.config.ts) is not running`,
    );
  }
}

/**
 * Direct access to the system's PostgreSQL, for what no screen does: promoting an admin,
 * aging a device, seeding volume. Everything else goes through the UI and the engines.
 */
export class E2eDatabase {
  private constructor(readonly pool: pg.Pool) {}

  static connect(): E2eDatabase {
    const pool = new pg.Pool({ connectionString: e2eDatabaseUrl(), max: 2 });
    pool.on("error", () => {});
    return new E2eDatabase(pool);
  }

  query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
    return this.pool.query<R>(text, values);
  }

  /** Gives an existing account the admin role (what `npm run promote-admin` does). */
  async promoteToAdmin(email: string): Promise<void> {
    const { rowCount } = await this.query(
      "UPDATE users SET role = 'admin', updated_at = now() WHERE email = lower($1)",
      [email],
    );
    if (rowCount !== 1) throw new Error(`no account ${email} to promote`);
  }

  async userIdOf(email: string): Promise<string> {
    const { rows } = await this.query<{ id: string }>(
      "SELECT id FROM users WHERE email = lower($1)",
      [email],
    );
    if (!rows[0]) throw new Error(`no account ${email}`);
    return rows[0].id;
  }

  /** The user's newest op id (0 without ops): the head every caught-up device's cursor reaches. */
  async newestOpId(userId: string): Promise<number> {
    const { rows } = await this.query<{ newest: string | null }>(
      "SELECT max(id)::text AS newest FROM sync_op WHERE user_id = $1",
      [userId],
    );
    return Number(rows[0]?.newest ?? 0);
  }

  /** The device's cursor as written in device_sync_cursor (null before its first flushed ACK). */
  async storedCursor(deviceId: string): Promise<number | null> {
    const { rows } = await this.query<{ id: string }>(
      "SELECT last_seen_id::text AS id FROM device_sync_cursor WHERE device_id = $1",
      [deviceId],
    );
    return rows[0] ? Number(rows[0].id) : null;
  }

  /**
   * Ages a device: its last ACK and its binding `days` back, so it falls outside the stale
   * window (90 days by default). Only meaningful once its ACKs are flushed (the device is
   * offline and storedCursor shows its last ACK), or a buffered ACK would make it fresh again.
   */
  async makeStale(deviceId: string, days = 91): Promise<void> {
    const at = new Date(Date.now() - days * DAY_MS);
    const cursor = await this.query(
      "UPDATE device_sync_cursor SET last_seen_at = $2 WHERE device_id = $1",
      [deviceId, at],
    );
    if (cursor.rowCount !== 1) throw new Error(`device ${deviceId} has no stored cursor yet`);
    await this.query("UPDATE devices SET bound_at = $2, last_seen_at = $2 WHERE id = $1", [
      deviceId,
      at,
    ]);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
