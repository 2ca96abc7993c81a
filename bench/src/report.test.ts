import { describe, expect, it } from "vitest";
import { consoleTable, type Figure, verdictOf } from "./report.js";

const pushFigure = (value: number): Figure => ({
  name: "push throughput, batches of 100",
  unit: "ops/s",
  value,
  baselineName: "raw insert",
  baseline: 30_000,
  better: "higher",
  target: { on: "ratio", kind: "max", value: 1 / 0.6 },
});

describe("a target held as a share of the baseline", () => {
  it("passes at 60% of the baseline and fails just below it", () => {
    expect(verdictOf(pushFigure(18_000))).toBe("pass");
    expect(verdictOf(pushFigure(17_900))).toBe("FAIL");
  });

  it("reads as the ratio and the share, rounded for the eye", () => {
    const table = consoleTable([
      { number: 1, title: "Push", figures: [pushFigure(18_000)], notes: [], seconds: 1 },
    ]);
    expect(table).toContain("ratio <= 1.67x (>= 60% of it)");
  });

  it("keeps a lower-is-better ratio target as a plain ratio", () => {
    const table = consoleTable([
      {
        number: 2,
        title: "CPU",
        figures: [
          {
            name: "server CPU per delivery",
            unit: "µs",
            value: 200,
            baselineName: "bare ws",
            baseline: 100,
            better: "lower",
            target: { on: "ratio", kind: "max", value: 3 },
          },
        ],
        notes: [],
        seconds: 1,
      },
    ]);
    expect(table).toContain("ratio <= 3x");
    expect(table).not.toContain("% of it");
  });
});
