import { describe, expect, it } from "vitest";
import { attributeSlowest, describePauses, overlapMs, splitAtPublish } from "./stalls.js";

describe("overlapMs", () => {
  it("sums the parts of the pauses inside the span", () => {
    const pauses = [
      { at: 0, ms: 10 }, // 5 of it inside [5, 30]
      { at: 12, ms: 3 }, // all inside
      { at: 28, ms: 10 }, // 2 inside
      { at: 40, ms: 5 }, // outside
    ];
    expect(overlapMs(pauses, 5, 30)).toBe(10);
  });

  it("is zero without pauses or for an empty span", () => {
    expect(overlapMs([], 0, 100)).toBe(0);
    expect(overlapMs([{ at: 0, ms: 10 }], 5, 5)).toBe(0);
  });
});

describe("attributeSlowest", () => {
  const deliveries = Array.from({ length: 100 }, (_, i) => ({
    seq: i,
    createdAt: i * 10,
    // two slow ones: 50 ms at seq 10, 40 ms at seq 60; the rest 2 ms
    receivedAt: i * 10 + (i === 10 ? 50 : i === 60 ? 40 : 2),
  }));

  it("looks at the slowest share and counts the sources covering half their wait", () => {
    const result = attributeSlowest(deliveries, 0.02, {
      "server GC": [{ at: 105, ms: 30 }], // covers 30 of seq 10's 50 ms
      "bench GC": [{ at: 600, ms: 10 }], // 10 of seq 60's 40 ms: not half
    });
    expect(result.count).toBe(2);
    expect(result.fromMs).toBe(40);
    expect(result.toMs).toBe(50);
    expect(result.bySource).toEqual([
      { source: "server GC", covered: 1, meanOverlapMs: 15 },
      { source: "bench GC", covered: 0, meanOverlapMs: 5 },
    ]);
    expect(result.unexplained).toBe(1);
  });

  it("counts a delivery covered by two sources once as explained", () => {
    const result = attributeSlowest(deliveries, 0.01, {
      a: [{ at: 100, ms: 50 }],
      b: [{ at: 100, ms: 50 }],
    });
    expect(result.bySource.map((s) => s.covered)).toEqual([1, 1]);
    expect(result.unexplained).toBe(0);
  });

  it("answers an empty attribution for no deliveries", () => {
    const result = attributeSlowest([], 0.01, { a: [] });
    expect(result.count).toBe(0);
    expect(result.bySource).toEqual([]);
  });
});

describe("splitAtPublish", () => {
  it("splits the slowest deliveries where their op was published", () => {
    const deliveries = [
      { seq: 1, createdAt: 0, receivedAt: 40 }, // published at 35: 35 in commit, 5 after
      { seq: 2, createdAt: 0, receivedAt: 30 }, // published at 2: 2 in commit, 28 after
      { seq: 3, createdAt: 0, receivedAt: 20 }, // never published (not stamped)
      { seq: 4, createdAt: 0, receivedAt: 1 },
    ];
    const published = new Map([
      [1, 35],
      [2, 2],
      [4, 0.5],
    ]);
    const split = splitAtPublish(deliveries, published, 0.75);
    expect(split).toEqual({
      count: 3,
      stamped: 2,
      inCommit: 1,
      inDelivery: 1,
      commitMedianMs: 2,
      deliveryMedianMs: 5,
    });
  });
});

describe("describePauses", () => {
  it("gives count, total and longest", () => {
    expect(describePauses([])).toBe("none");
    expect(
      describePauses([
        { at: 0, ms: 2 },
        { at: 5, ms: 7.25 },
      ]),
    ).toBe("2, 9 ms in all, longest 7.3 ms");
  });
});
