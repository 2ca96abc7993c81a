import { describe, expect, it } from "vitest";
import { lineChart, ticks } from "./svg.js";

describe("ticks", () => {
  it("steps by 1, 2 or 5 times a power of ten up to the maximum", () => {
    expect(ticks(25)).toEqual([0, 5, 10, 15, 20, 25]);
    expect(ticks(0.9)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(ticks(0)).toEqual([0]);
  });
});

describe("lineChart", () => {
  it("draws one path per series, the target line and escaped labels", () => {
    const svg = lineChart({
      title: "p99 <by rate>",
      xLabel: "pushes/s",
      yLabel: "ms",
      logX: true,
      series: [
        {
          label: "p50",
          color: "#06c",
          points: [
            { x: 100, y: 2 },
            { x: 200, y: 3 },
          ],
        },
        {
          label: "p99",
          color: "#c60",
          points: [
            { x: 100, y: 9 },
            { x: 200, y: Number.NaN },
          ],
        },
      ],
      lines: [{ y: 25, label: "target" }],
    });
    expect(svg.startsWith("<svg")).toBe(true);
    // A chart without a title fails the lint of the committed report (and says nothing to a
    // screen reader).
    expect(svg).toMatch(/<title>[^<]+<\/title>/);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain("p99 &lt;by rate&gt;");
    expect(svg).toContain('stroke-dasharray="6 4"');
    expect(svg).not.toContain("NaN");
  });
});
