import { SyncProtocolError, syncError } from "@chorus/protocol";
import { TRPCError } from "@trpc/server";
import { Redis } from "ioredis";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";

export type LimitedAction = "push" | "pull" | "ack" | "subscribe";

export type RateLimitConfig = Record<LimitedAction, { points: number; durationSeconds: number }>;

/** Per device, per second. A device draining a backlog pushes many batches quickly. */
export const DEFAULT_RATE_LIMITS: RateLimitConfig = {
  push: { points: 50, durationSeconds: 1 },
  pull: { points: 100, durationSeconds: 1 },
  ack: { points: 100, durationSeconds: 1 },
  subscribe: { points: 10, durationSeconds: 1 },
};

/** Where the budgets are counted when several replicas serve the same devices. */
export interface SharedLimitStore {
  redis: Redis;
  /** Key prefix (the deployment's REDIS_PREFIX). */
  prefix: string;
}

/**
 * Per-device request budgets; over budget is TOO_MANY_REQUESTS with a retry-after.
 * With a Redis store every replica spends from the same budget (else two replicas would each
 * grant the whole of it); while Redis is unreachable each replica falls back to counting in
 * its own memory, so requests are neither refused nor let through unbounded.
 */
export class RateLimits {
  private readonly limiters: Record<LimitedAction, RateLimiterAbstract>;

  constructor(config: RateLimitConfig = DEFAULT_RATE_LIMITS, store?: SharedLimitStore) {
    const limiter = (action: LimitedAction): RateLimiterAbstract => {
      const rule = { points: config[action].points, duration: config[action].durationSeconds };
      const memory = new RateLimiterMemory(rule);
      if (!store) return memory;
      return new RateLimiterRedis({
        ...rule,
        storeClient: store.redis,
        keyPrefix: `${store.prefix}:limit:${action}`,
        rejectIfRedisNotReady: true,
        insuranceLimiter: memory,
      });
    };
    this.limiters = {
      push: limiter("push"),
      pull: limiter("pull"),
      ack: limiter("ack"),
      subscribe: limiter("subscribe"),
    };
  }

  async consume(action: LimitedAction, deviceId: string): Promise<void> {
    try {
      await this.limiters[action].consume(deviceId);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfterMs = Math.max(1, rejection.msBeforeNext);
      throw new TRPCError({
        code: "TOO_MANY_REQUESTS",
        message: `too many ${action} calls from this device; retry in ${retryAfterMs} ms`,
        cause: new SyncProtocolError(syncError("rate_limited", { retryAfterMs })),
      });
    }
  }
}

/** A Redis connection for the shared budgets (its own: the bus's subscriber cannot run commands). */
export async function connectLimitStore(options: {
  url: string;
  prefix: string;
  onError?: (error: unknown) => void;
}): Promise<SharedLimitStore & { close(): Promise<void> }> {
  const redis = new Redis(options.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on("error", options.onError ?? (() => {}));
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(`cannot connect to Redis: ${(error as Error).message}`);
  }
  return {
    redis,
    prefix: options.prefix,
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
