import { DEFAULT_RATE_LIMITS, type LimitedAction, type RateLimitConfig } from "@chorus/api";
import { DatabaseUrl, RedisSettings } from "@chorus/db";
import { z } from "zod";

/** Every setting of the sync server, read and validated once. Nothing else reads process.env. */
const EnvSchema = z
  .object({
    DATABASE_URL: DatabaseUrl,
    SYNC_HOST: z.string().default("127.0.0.1"),
    SYNC_PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info"),
    SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
    ACK_FLUSH_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
    /** One throughput sample (ops pushed and delivered) per replica per this many ms. */
    THROUGHPUT_SAMPLE_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
    // REDIS_URL, REDIS_PREFIX: fan-out, presence and the ACK-flush barrier across replicas.
    ...RedisSettings,
    /** Devices not seen for this many days no longer hold compaction back. */
    COMPACTION_STALE_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
    /** Daily compaction time, HH:MM in UTC, or "off" (compaction then runs only on demand). */
    COMPACTION_TIME: z
      .string()
      .regex(/^(([01]\d|2[0-3]):[0-5]\d|off)$/, 'COMPACTION_TIME must be HH:MM (UTC) or "off"')
      .default("03:30"),
    /** Ops of one user compacted per transaction. */
    COMPACTION_BATCH_SIZE: z.coerce.number().int().min(100).max(1_000_000).default(50_000),
    /**
     * Per-device request budgets, overriding the defaults action by action:
     * "push=50/1,pull=100/1" is 50 pushes and 100 pulls per second. Shared by every replica
     * through Redis when REDIS_URL is set.
     */
    RATE_LIMITS: z
      .string()
      .default("")
      .transform((value, ctx) => {
        try {
          return parseRateLimits(value);
        } catch (error) {
          ctx.addIssue({ code: "custom", message: (error as Error).message });
          return z.NEVER;
        }
      }),
    /** Bytes of ops one pull page (or subscription backfill page) carries at most. */
    PULL_PAGE_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(128 * 1024, "PULL_PAGE_MAX_BYTES must be at least 131072 (two of the largest ops)")
      .default(4 * 1024 * 1024),
    /** Pushes of one user in flight at once on a replica (each holds a pooled connection). */
    PUSHES_PER_USER: z.coerce.number().int().min(1).max(1000).default(4),
    /** Pushes of one user waiting for a slot (in memory, no connection) before refusals. */
    PUSH_QUEUE_PER_USER: z.coerce.number().int().min(0).max(100_000).default(64),
    /** Live subscriptions one WebSocket may carry. */
    SUBSCRIPTIONS_PER_SOCKET: z.coerce.number().int().min(1).max(1000).default(8),
    /** Open WebSockets per device. */
    SOCKETS_PER_DEVICE: z.coerce.number().int().min(1).max(1000).default(5),
    /** A WebSocket without a valid token this long after opening is closed (ms). */
    WS_AUTH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5_000),
    /** A request whose headers have not arrived this long after connecting gets 408 (ms). */
    HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
    /** Directory of blob files (content-addressed objects and staged uploads). */
    BLOB_DIR: z.string().min(1).default(".data/blobs"),
    /** Largest blob, in bytes. */
    BLOB_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(Number.MAX_SAFE_INTEGER)
      .default(100 * 1024 * 1024),
    /** Bytes of blobs one account may hold (stored and uploading). */
    BLOB_QUOTA_BYTES: z.coerce
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .default(1024 * 1024 * 1024),
    /** Largest chunk of one upload request, in bytes. */
    BLOB_CHUNK_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(64 * 1024)
      .max(256 * 1024 * 1024)
      .default(8 * 1024 * 1024),
    /** Blob garbage collection spares blobs confirmed within this many hours. */
    BLOB_GC_GRACE_HOURS: z.coerce
      .number()
      .min(0)
      .max(24 * 365)
      .default(24),
    /** Uploads not confirmed within this many hours are dropped by garbage collection. */
    BLOB_UPLOAD_EXPIRY_HOURS: z.coerce
      .number()
      .min(1)
      .max(24 * 365)
      .default(24),
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    /** The token issuer's public key (SPKI PEM or a JWK), or the URL of its JWKS. */
    AUTH_PUBLIC_KEY: z.string().optional(),
    AUTH_JWKS_URL: z.url({ error: "AUTH_JWKS_URL must be a URL" }).optional(),
    /** Comma-separated browser origins allowed to call the API (the web app's URL). */
    WEB_ORIGINS: z
      .string()
      .default("")
      .transform((value) =>
        value
          .split(",")
          .map((origin) => origin.trim())
          .filter(Boolean),
      ),
    /** Development only: the shared key file the web app and mint-dev-token also use. */
    CHORUS_DEV_KEY_FILE: z.string().default(".data/dev-signing-key.json"),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === "production" && !env.AUTH_PUBLIC_KEY && !env.AUTH_JWKS_URL) {
      ctx.addIssue({
        code: "custom",
        path: ["AUTH_JWKS_URL"],
        message:
          "in production set AUTH_JWKS_URL (the web app's /.well-known/jwks.json) or AUTH_PUBLIC_KEY",
      });
    }
  });

const ACTIONS = Object.keys(DEFAULT_RATE_LIMITS) as LimitedAction[];

/** "push=50/1,pull=100/1": points per window of seconds, per action; the rest keep defaults. */
export function parseRateLimits(value: string): RateLimitConfig {
  const config: RateLimitConfig = { ...DEFAULT_RATE_LIMITS };
  for (const part of value.split(",").map((p) => p.trim())) {
    if (!part) continue;
    const match = /^([a-z]+)=(\d+)\/(\d+)$/.exec(part);
    const action = match?.[1] as LimitedAction | undefined;
    if (
      !match ||
      !action ||
      !ACTIONS.includes(action) ||
      Number(match[2]) < 1 ||
      Number(match[3]) < 1
    ) {
      throw new Error(
        `RATE_LIMITS: "${part}" is not <action>=<points>/<seconds> with action one of ${ACTIONS.join(", ")}`,
      );
    }
    config[action] = { points: Number(match[2]), durationSeconds: Number(match[3]) };
  }
  return config;
}

export type SyncServerEnv = z.infer<typeof EnvSchema>;

export class SettingsError extends Error {
  override name = "SettingsError";
}

export function loadEnv(source: Record<string, string | undefined> = process.env): SyncServerEnv {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new SettingsError(`invalid sync-server settings: ${lines.join("; ")}`);
  }
  return parsed.data;
}
