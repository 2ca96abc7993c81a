import { DatabaseUrl } from "@chorus/db";
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
    /** Redis for fan-out, presence and the ACK-flush barrier across replicas; unset: in-process. */
    REDIS_URL: z
      .string()
      .optional()
      .refine(
        (value) => value === undefined || /^rediss?:\/\//.test(value),
        "REDIS_URL must start with redis://",
      ),
    /** Prefix of Redis channels and keys (lets deployments share a Redis). */
    REDIS_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:_-]+$/)
      .default("chorus"),
    /** Devices not seen for this many days no longer hold compaction back. */
    COMPACTION_STALE_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
    /** Daily compaction time, HH:MM in UTC, or "off" (compaction then runs only on demand). */
    COMPACTION_TIME: z
      .string()
      .regex(/^(([01]\d|2[0-3]):[0-5]\d|off)$/, 'COMPACTION_TIME must be HH:MM (UTC) or "off"')
      .default("03:30"),
    /** Ops of one user compacted per transaction. */
    COMPACTION_BATCH_SIZE: z.coerce.number().int().min(100).max(1_000_000).default(50_000),
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
