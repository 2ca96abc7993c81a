import { describe, expect, it } from "vitest";
import { editPhases, pausedDuring, summarizePhases } from "./phases.js";

describe("editPhases", () => {
  it("cuts each edit's latency into consecutive stretches that add up to the whole", () => {
    const [edit] = editPhases(
      [100],
      [
        { name: "commit", stamps: [103] },
        { name: "server", stamps: [110] },
        { name: "apply", stamps: [130] },
      ],
      1,
    );
    expect(edit?.totalMs).toBe(30);
    expect(edit?.phases).toEqual({ commit: 3, server: 7, apply: 20 });
    expect(edit?.slowest).toBe("apply");
    expect(edit?.spans.server).toEqual([103, 110]);
  });

  it("merges a stretch whose end was not seen into the next, and never goes back in time", () => {
    const [edit] = editPhases(
      [100],
      [
        { name: "commit", stamps: [null] },
        { name: "server", stamps: [99] },
        { name: "apply", stamps: [120] },
      ],
      1,
    );
    expect(edit?.phases).toEqual({ server: 0, apply: 20 });
    expect(edit?.totalMs).toBe(20);
  });

  it("leaves out an edit that never arrived", () => {
    expect(editPhases([100], [{ name: "apply", stamps: [null] }], 1)).toEqual([]);
  });
});

describe("summarizePhases", () => {
  it("counts the slow edits by the stretch they spent longest in", () => {
    const all = editPhases(
      [0, 0, 0],
      [
        { name: "a", stamps: [50, 1, 1] },
        { name: "b", stamps: [60, 80, 5] },
      ],
      3,
    );
    const { phases, slow } = summarizePhases(all, ["a", "b"], 30);
    expect(slow.map((edit) => edit.edit)).toEqual([0, 1]);
    expect(phases.map((p) => [p.name, p.slowestOf, p.max])).toEqual([
      ["a", 1, 50],
      ["b", 1, 79],
    ]);
  });
});

describe("pausedDuring", () => {
  it("adds up the part of each pause inside the window", () => {
    const pauses = [
      { at: 0, ms: 10 },
      { at: 15, ms: 10 },
      { at: 40, ms: 5 },
    ];
    expect(pausedDuring(pauses, 5, 20)).toBe(10);
  });
});
