import { createRedisBus, type RateLimitConfig } from "@chorus/api";
import { createVerifier, type exportPublicJwks } from "@chorus/auth";
import { createPrisma } from "@chorus/db";
import { createSyncServer } from "@chorus/sync-server/server";
import pino from "pino";
import { childConfig, serveParent } from "./ipc.js";

/**
 * The real sync server (apps/sync-server's createSyncServer) in a process of its own, over the
 * bench database, verifying the bench's tokens. Rate limits are lifted: the bench measures what
 * the push path can carry, not the per-device budget.
 */
export interface SyncServerChildConfig {
  databaseUrl: string;
  jwks: Awaited<ReturnType<typeof exportPublicJwks>>;
  /** Fan out through Redis (createRedisBus) instead of in-process. */
  redis?: { url: string; prefix: string };
}

const UNLIMITED = { points: 1_000_000_000, durationSeconds: 1 };
const NO_RATE_LIMITS: RateLimitConfig = {
  push: UNLIMITED,
  pull: UNLIMITED,
  ack: UNLIMITED,
  subscribe: UNLIMITED,
};

const config = childConfig<SyncServerChildConfig>();
const prisma = createPrisma(config.databaseUrl);
const verifier = await createVerifier({ jwks: config.jwks });
const logger = pino({ level: "error", base: { service: "bench-sync-server" } });
const bus = config.redis
  ? await createRedisBus({
      url: config.redis.url,
      prefix: config.redis.prefix,
      onError: (error) => logger.error({ err: error }, "redis bus error"),
    })
  : undefined;
const server = createSyncServer({
  prisma,
  logger,
  verifyToken: (token) => verifier.verify(token),
  rateLimits: NO_RATE_LIMITS,
  databaseUrl: config.databaseUrl,
  ...(bus ? { bus } : {}),
});
const address = await server.listen(0, "127.0.0.1");

serveParent(address.port, {}, async () => {
  await server.close();
  await bus?.close();
  await prisma.$disconnect();
});
