import { z } from "zod";

/**
 * The Redis settings the web app and the sync server both read, validated by one schema:
 * spread into each app's settings object (`z.object({ ...RedisSettings, … })`).
 */
export const RedisSettings = {
  /** Redis shared by every replica; unset: in-process (in memory). */
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
};
