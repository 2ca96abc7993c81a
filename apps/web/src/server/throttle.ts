import { Redis } from "ioredis";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";
import { env } from "@/env";

export interface ThrottleRule {
  points: number;
  durationSeconds: number;
}

export interface AuthThrottleConfig {
  /** Wrong passwords for one account, from anywhere. */
  signInFailuresPerEmail: ThrottleRule;
  /** Wrong passwords from one address, for any account (guessing across accounts). */
  signInFailuresPerIp: ThrottleRule;
  /** Accounts created from one address. */
  signUpsPerIp: ThrottleRule;
}

export const DEFAULT_AUTH_THROTTLE: AuthThrottleConfig = {
  signInFailuresPerEmail: { points: 5, durationSeconds: 5 * 60 },
  signInFailuresPerIp: { points: 30, durationSeconds: 5 * 60 },
  signUpsPerIp: { points: 30, durationSeconds: 10 * 60 },
};

/** The default budgets, with the deployment's SIGN_UPS_PER_IP. */
export function authThrottleConfig(signUpsPerIp: number): AuthThrottleConfig {
  return {
    ...DEFAULT_AUTH_THROTTLE,
    signUpsPerIp: { ...DEFAULT_AUTH_THROTTLE.signUpsPerIp, points: signUpsPerIp },
  };
}

/** Over budget: the caller may try again in this many seconds (>= 1). */
export type Throttled = { retryAfterSeconds: number };

/** Where the budgets are counted when several web replicas serve the same people. */
export interface ThrottleStore {
  redis: Redis;
  /** Key prefix (the deployment's REDIS_PREFIX). */
  prefix: string;
}

function limiter(rule: ThrottleRule, name: string, store?: ThrottleStore): RateLimiterAbstract {
  const options = { points: rule.points, duration: rule.durationSeconds };
  const memory = new RateLimiterMemory(options);
  if (!store) return memory;
  // While Redis is unreachable each replica counts on its own rather than failing sign-in.
  return new RateLimiterRedis({
    ...options,
    storeClient: store.redis,
    keyPrefix: `${store.prefix}:throttle:${name}`,
    insuranceLimiter: memory,
  });
}

function retryAfter(res: RateLimiterRes): Throttled {
  return { retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
}

/**
 * Sign-in and sign-up budgets: in Redis when one is configured, so every web replica spends
 * from the same budget (counted in each process's memory, two replicas would each grant all of
 * it); in this process's memory otherwise (one replica). Only failures count against sign-in, so a person who types their password right is never
 * slowed down by someone else guessing from the same network.
 */
export class AuthThrottle {
  private readonly perEmail: RateLimiterAbstract;
  private readonly perIp: RateLimiterAbstract;
  private readonly signUps: RateLimiterAbstract;

  constructor(
    private readonly config: AuthThrottleConfig = DEFAULT_AUTH_THROTTLE,
    store?: ThrottleStore,
  ) {
    this.perEmail = limiter(config.signInFailuresPerEmail, "sign-in-email", store);
    this.perIp = limiter(config.signInFailuresPerIp, "sign-in-ip", store);
    this.signUps = limiter(config.signUpsPerIp, "sign-up-ip", store);
  }

  /** Whether a sign-in may be attempted now; checked before the password is. */
  async signInBlocked(email: string, ip: string): Promise<Throttled | null> {
    const [byEmail, byIp] = await Promise.all([this.perEmail.get(email), this.perIp.get(ip)]);
    const blocked = [
      byEmail && byEmail.consumedPoints >= this.config.signInFailuresPerEmail.points
        ? byEmail
        : null,
      byIp && byIp.consumedPoints >= this.config.signInFailuresPerIp.points ? byIp : null,
    ].filter((res): res is RateLimiterRes => res !== null);
    if (blocked.length === 0) return null;
    return retryAfter(blocked.reduce((a, b) => (a.msBeforeNext >= b.msBeforeNext ? a : b)));
  }

  async signInFailed(email: string, ip: string): Promise<void> {
    await Promise.all([absorb(this.perEmail.consume(email)), absorb(this.perIp.consume(ip))]);
  }

  /** A right password clears the account's failures (not the address's). */
  async signInSucceeded(email: string): Promise<void> {
    await this.perEmail.delete(email);
  }

  /** Counts a sign-up attempt; null when it may go ahead. */
  async signUpAttempt(ip: string): Promise<Throttled | null> {
    try {
      await this.signUps.consume(ip);
      return null;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return retryAfter(rejection);
      throw rejection;
    }
  }
}

/** consume() rejects once over budget; a failure is recorded either way. */
async function absorb(consumption: Promise<RateLimiterRes>): Promise<void> {
  try {
    await consumption;
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
  }
}

const holder = globalThis as typeof globalThis & { chorusAuthThrottle?: AuthThrottle };

/** The process-wide throttle the sign-in and sign-up paths share. */
export function authThrottle(): AuthThrottle {
  if (!holder.chorusAuthThrottle) {
    const { REDIS_URL, REDIS_PREFIX, SIGN_UPS_PER_IP } = env();
    let store: ThrottleStore | undefined;
    if (REDIS_URL) {
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
      redis.on("error", (error) =>
        console.error("chorus web: redis throttle store:", error.message),
      );
      store = { redis, prefix: REDIS_PREFIX };
    }
    holder.chorusAuthThrottle = new AuthThrottle(authThrottleConfig(SIGN_UPS_PER_IP), store);
  }
  return holder.chorusAuthThrottle;
}
