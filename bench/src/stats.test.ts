import { describe, expect, it } from "vitest";
import {
  describeDistribution,
  distribution,
  formatNumber,
  overheadRatio,
  percentile,
  ratePerSecond,
  summarize,
  verdict,
} from "./stats.js";

describe("percentile (nearest rank)", () => {
  it("picks the smallest sample with at least p% of samples at or below it", () => {
    const samples = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(samples, 50)).toBe(5);
    expect(percentile(samples, 90)).toBe(9);
    expect(percentile(samples, 99)).toBe(10);
    expect(percentile(samples, 100)).toBe(10);
    expect(percentile(samples, 0)).toBe(1);
  });

  it("does not reorder the caller's samples and sorts numerically, not as strings", () => {
    const samples = new Float64Array([100, 20, 3]);
    expect(percentile(samples, 50)).toBe(20);
    expect([...samples]).toEqual([100, 20, 3]);
  });

  it("is NaN without samples and refuses a p outside 0..100", () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  it("p99 of 1..1000 is 990", () => {
    const samples = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(summarize(samples)).toEqual({ count: 1000, p50: 500, p99: 990, max: 1000 });
  });
});

describe("rates, ratios and verdicts", () => {
  it("counts events per second", () => {
    expect(ratePerSecond(5000, 2000)).toBe(2500);
    expect(ratePerSecond(1, 0)).toBeNaN();
  });

  it("expresses the ratio as how many times worse than the baseline", () => {
    expect(overheadRatio(1000, 1300, "higher")).toBeCloseTo(1.3);
    expect(overheadRatio(13, 10, "lower")).toBeCloseTo(1.3);
    expect(overheadRatio(0, 10, "higher")).toBeNaN();
  });

  it("judges a figure against a min or max target", () => {
    expect(verdict(5000, { kind: "min", value: 5000 })).toBe("pass");
    expect(verdict(4999, { kind: "min", value: 5000 })).toBe("FAIL");
    expect(verdict(26, { kind: "max", value: 25 })).toBe("FAIL");
    expect(verdict(Number.NaN, { kind: "max", value: 25 })).toBe("n/a");
    expect(verdict(3, undefined)).toBe("n/a");
  });

  it("formats for tables", () => {
    expect(formatNumber(12345.678)).toBe("12,346");
    expect(formatNumber(1.234)).toBe("1.23");
    expect(formatNumber(Number.NaN)).toBe("—");
  });
});

describe("distribution", () => {
  it("counts each sample in the bucket below its edge, the last one open", () => {
    const d = distribution([0.5, 1, 3, 3, 700], [1, 5, Number.POSITIVE_INFINITY]);
    expect(d.buckets).toEqual([
      { upTo: 1, count: 1 },
      { upTo: 5, count: 3 },
      { upTo: Number.POSITIVE_INFINITY, count: 1 },
    ]);
    expect(d.min).toBe(0.5);
    expect(d.max).toBe(700);
    expect(d.mean).toBeCloseTo(141.5);
    expect(d.p90).toBe(700);
    expect(describeDistribution(d)).toContain("0-1 ms: 1, 1-5 ms: 3, 5-∞ ms: 1");
  });

  it("is all NaN and empty buckets for no samples", () => {
    const d = distribution([]);
    expect(d.count).toBe(0);
    expect(Number.isNaN(d.min) && Number.isNaN(d.mean)).toBe(true);
    expect(d.buckets.every((bucket) => bucket.count === 0)).toBe(true);
  });
});
