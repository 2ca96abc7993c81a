import { type Bus, createInProcessBus, createRedisBus, type RateLimitConfig } from "@chorus/api";
import { createVerifier, type exportPublicJwks } from "@chorus/auth";
import { createPrisma } from "@chorus/db";
import { createSyncServer, reachDatabase } from "@chorus/sync-server/server";
import pino from "pino";
import { childConfig, serveParent } from "./ipc.js";
import { type Tracer, traceSockets } from "./trace.js";

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
  /**
   * Stamp section 5's edits on their way through (child/trace.ts): received, published on the
   * bus, sent to the subscribers; the parent asks with `traceReset` and `traceDump`.
   */
  trace?: boolean;
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
// As the server's main does before it listens: the first query loads Prisma's query compiler,
// which would otherwise be counted in what the first sockets cost.
await reachDatabase(prisma);
const verifier = await createVerifier({ jwks: config.jwks });
const logger = pino({ level: "error", base: { service: "bench-sync-server" } });
const tracer: Tracer | null = config.trace ? traceSockets("server ") : null;
const bus = config.redis
  ? await createRedisBus({
      url: config.redis.url,
      prefix: config.redis.prefix,
      onError: (error) => logger.error({ err: error }, "redis bus error"),
    })
  : tracer
    ? tracedBus(createInProcessBus(), tracer)
    : undefined;

/** The in-process bus, stamping each edit of section 5 when its committed op is published. */
function tracedBus(inner: Bus, trace: Tracer): Bus {
  const edit = /^bench edit (\d+)$/;
  return {
    ...inner,
    publishOps(event) {
      for (const op of event.ops) {
        const match = typeof op.value === "string" ? edit.exec(op.value) : null;
        if (match) trace.stamp("server published", Number(match[1]));
      }
      return inner.publishOps(event);
    },
  };
}
const server = createSyncServer({
  prisma,
  logger,
  verifyToken: (token) => verifier.verify(token),
  rateLimits: NO_RATE_LIMITS,
  databaseUrl: config.databaseUrl,
  ...(bus ? { bus } : {}),
});
const address = await server.listen(0, "127.0.0.1");

serveParent(
  address.port,
  {
    async traceReset(request) {
      tracer?.reset(request.edits as number);
      return true;
    },
    async traceDump() {
      return tracer?.dump() ?? null;
    },
  },
  async () => {
    await server.close();
    await bus?.close();
    await prisma.$disconnect();
  },
);
