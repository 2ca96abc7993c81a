import { SyncProtocolError, syncError } from "@chorus/protocol";
import { TRPCError } from "@trpc/server";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

export type LimitedAction = "push" | "pull" | "ack" | "subscribe";

export type RateLimitConfig = Record<LimitedAction, { points: number; durationSeconds: number }>;

/** Per device, per second. A device draining a backlog pushes many batches quickly. */
export const DEFAULT_RATE_LIMITS: RateLimitConfig = {
  push: { points: 50, durationSeconds: 1 },
  pull: { points: 100, durationSeconds: 1 },
  ack: { points: 100, durationSeconds: 1 },
  subscribe: { points: 10, durationSeconds: 1 },
};

/** Per-device request budgets; over budget is TOO_MANY_REQUESTS with a retry-after. */
export class RateLimits {
  private readonly limiters: Record<LimitedAction, RateLimiterMemory>;

  constructor(config: RateLimitConfig = DEFAULT_RATE_LIMITS) {
    this.limiters = {
      push: new RateLimiterMemory({
        points: config.push.points,
        duration: config.push.durationSeconds,
      }),
      pull: new RateLimiterMemory({
        points: config.pull.points,
        duration: config.pull.durationSeconds,
      }),
      ack: new RateLimiterMemory({
        points: config.ack.points,
        duration: config.ack.durationSeconds,
      }),
      subscribe: new RateLimiterMemory({
        points: config.subscribe.points,
        duration: config.subscribe.durationSeconds,
      }),
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
