import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { AuthThrottle, type AuthThrottleConfig } from "@/server/throttle";

/* Needs Redis: TEST_REDIS_URL, default redis://127.0.0.1:6379. */
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const clients: Redis[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.quit()));
});

const RULES: AuthThrottleConfig = {
  signInFailuresPerEmail: { points: 4, durationSeconds: 600 },
  signInFailuresPerIp: { points: 100, durationSeconds: 600 },
  signUpsPerIp: { points: 4, durationSeconds: 600 },
};

/** One web replica's throttle: its own Redis connection, the deployment's shared prefix. */
function replica(prefix: string): AuthThrottle {
  const redis = new Redis(REDIS_URL);
  clients.push(redis);
  return new AuthThrottle(RULES, { redis, prefix });
}

describe("sign-in throttle across web replicas", () => {
  it("the sign-in and sign-up throttles do not double with two replicas (the budget lives in Redis)", async () => {
    const prefix = `chorus-test-${randomUUID()}`;
    const one = replica(prefix);
    const two = replica(prefix);
    const email = `${randomUUID()}@example.test`;

    // Two wrong passwords through each replica spend the account's budget of four.
    for (const throttle of [one, two, one, two]) {
      expect(await throttle.signInBlocked(email, "10.1.0.1")).toBeNull();
      await throttle.signInFailed(email, "10.1.0.1");
    }
    for (const throttle of [one, two]) {
      const blocked = await throttle.signInBlocked(email, "10.1.0.2");
      expect(blocked?.retryAfterSeconds).toBeGreaterThan(0);
    }
    // Another account is not held back.
    expect(await two.signInBlocked(`${randomUUID()}@example.test`, "10.1.0.3")).toBeNull();

    for (const throttle of [one, two, one, two]) {
      expect(await throttle.signUpAttempt("10.1.0.9")).toBeNull();
    }
    expect(await one.signUpAttempt("10.1.0.9")).not.toBeNull();
    expect(await two.signUpAttempt("10.1.0.9")).not.toBeNull();
  });
});
