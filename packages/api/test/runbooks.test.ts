import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CONVERGENCE_RUNBOOK_ANCHOR, RUNBOOK_ANCHORS } from "../src/diagnostics/runbooks.js";

/** GitHub's heading anchors: lower-cased, punctuation dropped, spaces as hyphens. */
function anchorsOf(markdown: string): Set<string> {
  return new Set(
    markdown
      .split("\n")
      .filter((line) => /^#{1,6} /.test(line))
      .map((line) =>
        line
          .replace(/^#+ /, "")
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N} _-]/gu, "")
          .replace(/ /g, "-"),
      ),
  );
}

describe("runbooks", () => {
  const page = readFileSync(
    fileURLToPath(new URL("../../../docs/runbooks/devices.md", import.meta.url)),
    "utf8",
  );
  const anchors = anchorsOf(page);

  it("has a section for every verdict the explainer gives, and for the convergence audit", () => {
    for (const [code, anchor] of Object.entries(RUNBOOK_ANCHORS)) {
      expect(anchors, `runbook section for ${code}`).toContain(anchor);
    }
    expect(anchors).toContain(CONVERGENCE_RUNBOOK_ANCHOR);
  });
});
