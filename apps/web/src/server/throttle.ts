import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

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

/** Over budget: the caller may try again in this many seconds (>= 1). */
export type Throttled = { retryAfterSeconds: number };

function limiter(rule: ThrottleRule): RateLimiterMemory {
  return new RateLimiterMemory({ points: rule.points, duration: rule.durationSeconds });
}

function retryAfter(res: RateLimiterRes): Throttled {
  return { retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
}

/**
 * Sign-in and sign-up budgets, in this process's memory (one web replica; several replicas
 * would each count on their own, which only makes the limits proportionally looser).
 * Only failures count against sign-in, so a person who types their password right is never
 * slowed down by someone else guessing from the same network.
 */
export class AuthThrottle {
  private readonly perEmail: RateLimiterMemory;
  private readonly perIp: RateLimiterMemory;
  private readonly signUps: RateLimiterMemory;

  constructor(private readonly config: AuthThrottleConfig = DEFAULT_AUTH_THROTTLE) {
    this.perEmail = limiter(config.signInFailuresPerEmail);
    this.perIp = limiter(config.signInFailuresPerIp);
    this.signUps = limiter(config.signUpsPerIp);
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
  holder.chorusAuthThrottle ??= new AuthThrottle();
  return holder.chorusAuthThrottle;
}
