import { describe, expect, it } from "vitest";
import { cpuTimes, stealShare } from "./machine.js";

describe("stealShare", () => {
  it("is the stolen share of the CPU time between two readings", () => {
    expect(stealShare({ total: 1_000, steal: 10 }, { total: 3_000, steal: 510 })).toBe(0.25);
    expect(stealShare({ total: 1_000, steal: 10 }, { total: 2_000, steal: 10 })).toBe(0);
  });

  it("is unknown without two readings or without time between them", () => {
    expect(stealShare(null, { total: 2, steal: 1 })).toBeNull();
    expect(stealShare({ total: 5, steal: 1 }, null)).toBeNull();
    expect(stealShare({ total: 5, steal: 1 }, { total: 5, steal: 1 })).toBeNull();
  });

  it("reads /proc/stat on Linux, steal within the total", () => {
    const times = cpuTimes();
    if (process.platform !== "linux") return expect(times).toBeNull();
    expect(times?.total).toBeGreaterThan(0);
    expect(times?.steal).toBeGreaterThanOrEqual(0);
    expect(times?.steal).toBeLessThanOrEqual(times?.total ?? 0);
  });
});
