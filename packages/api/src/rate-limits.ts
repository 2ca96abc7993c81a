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

/** Devices counted in memory past which windows that have ended are swept out. */
const SWEEP_AT = 10_000;

/**
 * A fixed window per device, as rate-limiter-flexible's RateLimiterMemory counts: the first call
 * opens a window of `durationMs`; each call counts one point; past `points` a call is refused
 * until the window ends (the answer is how long that is); a call after it opens a new one.
 * Unlike RateLimiterMemory it sets no timer: that library arms a timer per window to forget it,
 * which at a push a second per device is one timer (and, often, one event-loop wake-up) per
 * push (ADR 0037). Here an ended window is replaced by the device's next call, and swept out
 * when many devices are counted.
 */
export class WindowCounter {
  private readonly windows = new Map<string, { points: number; endsAt: number }>();
  private sweepAt = SWEEP_AT;

  constructor(
    private readonly points: number,
    private readonly durationMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts a call; null when it is within the budget, else ms until the window ends. */
  consume(key: string): number | null {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      if (!window && this.windows.size >= this.sweepAt) this.sweep(now);
      window = { points: 0, endsAt: now + this.durationMs };
      this.windows.set(key, window);
    }
    window.points++;
    return window.points > this.points ? window.endsAt - now : null;
  }

  /** Devices with a window open or not yet swept out (for tests). */
  get size(): number {
    return this.windows.size;
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
    this.sweepAt = Math.max(SWEEP_AT, this.windows.size * 2);
  }
}

/**
 * Per-device request budgets; over budget is TOO_MANY_REQUESTS with a retry-after.
 * With a Redis store every replica spends from the same budget (else two replicas would each
 * grant the whole of it); while Redis is unreachable each replica falls back to counting in
 * its own memory, so requests are neither refused nor let through unbounded.
 */
export class RateLimits {
  /** Shared budgets (Redis); null when the budgets are counted in this process only. */
  private readonly limiters: Record<LimitedAction, RateLimiterAbstract> | null;
  /** Budgets counted in this process; null when they are shared. */
  private readonly local: Record<LimitedAction, WindowCounter> | null;

  constructor(config: RateLimitConfig = DEFAULT_RATE_LIMITS, store?: SharedLimitStore) {
    if (!store) {
      const counter = (action: LimitedAction) =>
        new WindowCounter(config[action].points, config[action].durationSeconds * 1000);
      this.local = {
        push: counter("push"),
        pull: counter("pull"),
        ack: counter("ack"),
        subscribe: counter("subscribe"),
      };
      this.limiters = null;
      return;
    }
    this.local = null;
    const limiter = (action: LimitedAction): RateLimiterAbstract => {
      const rule = { points: config[action].points, duration: config[action].durationSeconds };
      const memory = new RateLimiterMemory(rule);
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
    if (this.local) {
      const waitMs = this.local[action].consume(deviceId);
      if (waitMs !== null) throw refused(action, waitMs);
      return;
    }
    try {
      await (this.limiters as Record<LimitedAction, RateLimiterAbstract>)[action].consume(deviceId);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      throw refused(action, rejection.msBeforeNext);
    }
  }
}

function refused(action: LimitedAction, msBeforeNext: number): TRPCError {
  const retryAfterMs = Math.max(1, msBeforeNext);
  return new TRPCError({
    code: "TOO_MANY_REQUESTS",
    message: `too many ${action} calls from this device; retry in ${retryAfterMs} ms`,
    cause: new SyncProtocolError(syncError("rate_limited", { retryAfterMs })),
  });
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
