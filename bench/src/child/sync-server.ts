import { type Bus, createInProcessBus, createRedisBus, type RateLimitConfig } from "@chorus/api";
import { createVerifier, type exportPublicJwks } from "@chorus/auth";
import { createPrisma } from "@chorus/db";
import { createSyncServer, reachDatabase } from "@chorus/sync-server/server";
import pino from "pino";
import { wallClockMs } from "../progress.js";
import { watchStalls } from "../stalls.js";
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
  /**
   * Record this process's GC pauses and late event-loop turns (stalls.ts) between
   * `stallsReset` and `stallsDump`: the saturation section matches its slowest deliveries
   * with them.
   */
  stalls?: boolean;
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
const stalls = config.stalls ? watchStalls() : null;
/**
 * By seq (the bench op's value.seq, 0 up to the pushes measured): wall-clock ms when its
 * committed op was published (NaN: not yet). A typed array: no garbage in the server measured.
 */
let published = new Float64Array(0);
const bus = config.redis
  ? await createRedisBus({
      url: config.redis.url,
      prefix: config.redis.prefix,
      onError: (error) => logger.error({ err: error }, "redis bus error"),
    })
  : tracer
    ? tracedBus(createInProcessBus(), tracer)
    : stalls
      ? stampedBus(createInProcessBus())
      : undefined;

/**
 * The in-process bus, noting when each measured op of the fan-out sections is published: the
 * push's transaction has committed then, so created_at -> published is the time in Postgres
 * (the statement and its commit) and the server's own work around it, and published ->
 * received is the fan-out's send and the subscriber's receipt.
 */
function stampedBus(inner: Bus): Bus {
  return {
    ...inner,
    publishOps(event) {
      const at = wallClockMs();
      for (const op of event.ops) {
        const seq = (op.value as { seq?: unknown } | null)?.seq;
        if (typeof seq === "number" && seq >= 0 && Number.isNaN(published[seq])) {
          published[seq] = at;
        }
      }
      return inner.publishOps(event);
    },
  };
}

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
    async stallsReset(request) {
      stalls?.reset();
      published = new Float64Array(request.pushes as number).fill(Number.NaN);
      return true;
    },
    async stallsDump() {
      if (!stalls) return null;
      const stamped: Array<[number, number]> = [];
      for (const [seq, at] of published.entries()) if (!Number.isNaN(at)) stamped.push([seq, at]);
      return { ...stalls.dump(), published: stamped };
    },
  },
  async () => {
    stalls?.stop();
    await server.close();
    await bus?.close();
    await prisma.$disconnect();
  },
);
