import { RateLimiterMemory, type RateLimiterRes } from "rate-limiter-flexible";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RateLimits, WindowCounter } from "../src/rate-limits.js";

describe("WindowCounter", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("refuses and allows exactly as RateLimiterMemory does, with the same wait", async () => {
    const points = 3;
    const counter = new WindowCounter(points, 1_000);
    const library = new RateLimiterMemory({ points, duration: 1 });
    // Calls of two devices at irregular times across several windows.
    const steps = [0, 0, 10, 100, 5, 300, 584, 1, 0, 2, 250, 999, 1, 1_500, 0, 0, 0, 0, 400];
    for (const [index, step] of steps.entries()) {
      await vi.advanceTimersByTimeAsync(step);
      for (const device of index % 3 === 0 ? ["a", "b"] : ["a"]) {
        const mine = counter.consume(device);
        const theirs = await library.consume(device).then(
          () => null,
          (rejection: RateLimiterRes) => rejection.msBeforeNext,
        );
        expect({ index, device, wait: mine }).toEqual({ index, device, wait: theirs });
      }
    }
  });

  it("sets no timer, and sweeps ended windows out once many devices are counted", async () => {
    const counter = new WindowCounter(1, 1_000);
    for (let device = 0; device < 10_000; device++) counter.consume(`d${device}`);
    expect(vi.getTimerCount()).toBe(0);
    expect(counter.size).toBe(10_000);
    await vi.advanceTimersByTimeAsync(1_000);
    counter.consume("another");
    expect(counter.size).toBe(1);
  });

  it("a device over its push budget is refused rate_limited with the wait until its window ends", async () => {
    const limits = new RateLimits({
      push: { points: 2, durationSeconds: 1 },
      pull: { points: 100, durationSeconds: 1 },
      ack: { points: 100, durationSeconds: 1 },
      subscribe: { points: 10, durationSeconds: 1 },
    });
    await limits.consume("push", "a");
    await vi.advanceTimersByTimeAsync(400);
    await limits.consume("push", "a");
    // Another device and another action have budgets of their own.
    await limits.consume("push", "b");
    await limits.consume("pull", "a");
    await expect(limits.consume("push", "a")).rejects.toMatchObject({
      code: "TOO_MANY_REQUESTS",
      message: "too many push calls from this device; retry in 600 ms",
      cause: { syncError: { type: "rate_limited", retryAfterMs: 600 } },
    });
    await vi.advanceTimersByTimeAsync(600);
    await limits.consume("push", "a");
  });
});
