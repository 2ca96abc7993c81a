import { DatabaseUrl, RedisSettings } from "@chorus/db";
import { z } from "zod";
import { parseTrustedProxies } from "./server/client-address";

/*
 * Every setting of the web app, read and validated once. Nothing else reads process.env.
 *
 * "Production" is CHORUS_ENV, not NODE_ENV: `next start` always runs with NODE_ENV=production,
 * also under `npm start` on a laptop. `npm start` passes CHORUS_ENV=local, which allows the
 * development defaults (the shared dev signing key, a session secret derived from it); a real
 * deployment leaves it unset or sets `production` and must provide the secrets.
 */
const EnvSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    CHORUS_ENV: z.enum(["local", "production"]).optional(),
    DATABASE_URL: DatabaseUrl,
    /** Public URL of this web app (next-auth's NEXTAUTH_URL defaults to it). */
    WEB_URL: z.url({ error: "WEB_URL must be a URL" }).default("http://127.0.0.1:3000"),
    NEXTAUTH_URL: z.url({ error: "NEXTAUTH_URL must be a URL" }).optional(),
    /** The sync server as browsers and desktops reach it. */
    SYNC_URL: z.url({ error: "SYNC_URL must be a URL" }).default("http://127.0.0.1:4000"),
    /** Signs and encrypts the session cookie; at least 32 characters. */
    NEXTAUTH_SECRET: z
      .string()
      .min(32, "NEXTAUTH_SECRET must be at least 32 characters (openssl rand -base64 32)")
      .optional(),
    /** The access-token signing key: PKCS#8 PEM or a private Ed25519 JWK. */
    AUTH_PRIVATE_KEY: z.string().optional(),
    /**
     * During a key rotation: the previous signing key's public half (SPKI PEM or a public JWK),
     * served in the JWKS beside the current key until tokens it signed have expired.
     */
    AUTH_PREVIOUS_PUBLIC_KEY: z.string().optional(),
    /** Development only: the signing key file shared with the sync server. */
    CHORUS_DEV_KEY_FILE: z.string().optional(),
    /**
     * Seconds in which a just-rotated refresh token, presented again (its answer was lost),
     * yields a new successor instead of counting as reuse; 0 turns the grace off.
     */
    REFRESH_GRACE_SECONDS: z.coerce.number().int().min(0).max(600).default(60),
    /**
     * Accounts one address may create in ten minutes. Raise it where many people share one
     * address (an office behind one NAT) or where a test suite signs up hundreds of accounts.
     */
    SIGN_UPS_PER_IP: z.coerce.number().int().min(1).max(1_000_000).default(30),
    // REDIS_URL, REDIS_PREFIX: the sign-in and sign-up throttles across replicas.
    ...RedisSettings,
    /**
     * Proxies in front of the web app whose `X-Forwarded-For` is believed (IP addresses and CIDR
     * ranges, comma-separated). Empty: the socket's peer is the client, whatever headers say.
     */
    TRUSTED_PROXIES: z
      .string()
      .default("")
      .superRefine((value, ctx) => {
        try {
          parseTrustedProxies(value);
        } catch (error) {
          ctx.addIssue({ code: "custom", message: (error as Error).message });
        }
      }),
    /** Where account mail goes out (smtp://user:pass@host:587, smtps://…); required in production. */
    SMTP_URL: z.url({ error: "SMTP_URL must be a URL like smtp://user:pass@host:587" }).optional(),
    /** The sender of account mail. */
    MAIL_FROM: z.string().min(3).default("Chorus <no-reply@chorus.localhost>"),
    /** Development only: where mail is kept when SMTP_URL is unset (shown at /dev/mailbox). */
    CHORUS_DEV_MAILBOX_DIR: z.string().optional(),
    /** Comma-separated emails that are made admins when they sign up or sign in. */
    ADMIN_EMAILS: z
      .string()
      .default("")
      .transform((value) =>
        value
          .split(",")
          .map((email) => email.trim().toLowerCase())
          .filter(Boolean),
      ),
  })
  .transform(({ CHORUS_ENV, NODE_ENV, ...env }) => ({
    ...env,
    NODE_ENV,
    /** Whether development defaults are allowed (see above). */
    isProduction:
      (CHORUS_ENV ?? (NODE_ENV === "production" ? "production" : "local")) === "production",
  }))
  .superRefine((env, ctx) => {
    if (!env.isProduction) return;
    if (!env.NEXTAUTH_SECRET) {
      ctx.addIssue({
        code: "custom",
        path: ["NEXTAUTH_SECRET"],
        message: "in production set NEXTAUTH_SECRET (or CHORUS_ENV=local on a development machine)",
      });
    }
    if (!env.SMTP_URL) {
      ctx.addIssue({
        code: "custom",
        path: ["SMTP_URL"],
        message: "in production set SMTP_URL: account mail (verification, password reset) needs it",
      });
    }
    if (!env.AUTH_PRIVATE_KEY) {
      ctx.addIssue({
        code: "custom",
        path: ["AUTH_PRIVATE_KEY"],
        message: "in production set AUTH_PRIVATE_KEY (PKCS#8 PEM or a private Ed25519 JWK)",
      });
    }
  });

export type WebEnv = z.infer<typeof EnvSchema>;

export class SettingsError extends Error {
  override name = "SettingsError";
}

export function parseEnv(source: Record<string, string | undefined>): WebEnv {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new SettingsError(`invalid web settings: ${lines.join("; ")}`);
  }
  return parsed.data;
}

let cached: WebEnv | undefined;

/**
 * The validated settings. Read lazily (not at import) because `next build` imports every route
 * without the runtime settings; `instrumentation.ts` calls it at server start so a bad setting
 * stops the server at once.
 */
export function env(): WebEnv {
  if (cached) return cached;
  cached = parseEnv(process.env);
  // next-auth reads its public URL from process.env itself.
  process.env.NEXTAUTH_URL ??= cached.WEB_URL;
  return cached;
}

/** True while `next build` collects pages, when runtime settings are absent on purpose. */
export function isBuildPhase(): boolean {
  return process.env.NEXT_PHASE === "phase-production-build";
}
