// Reads the JSON reports vitest wrote under `npm test` (see vitest.shared.ts) and lists every
// failed test file and test with the first lines of its error, to be printed last: CI keeps
// only the end of a long log, and Turborepo interleaves the packages' output.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface AssertionResult {
  fullName?: string;
  title?: string;
  status?: string;
  failureMessages?: string[];
}
interface FileResult {
  name?: string;
  status?: string;
  message?: string;
  assertionResults?: AssertionResult[];
}

const LINES_PER_FAILURE = 12;

function firstLines(text: string): string {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .slice(0, LINES_PER_FAILURE)
    .map((line) => `      ${line}`)
    .join("\n");
}

/** The digest's lines; empty when no report names a failure. */
export function failureDigest(reportDir: string): string[] {
  if (!existsSync(reportDir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(reportDir).sort()) {
    if (!entry.endsWith(".json")) continue;
    const packageName = entry.slice(0, -".json".length);
    let files: FileResult[];
    try {
      const parsed = JSON.parse(readFileSync(join(reportDir, entry), "utf8")) as {
        testResults?: FileResult[];
      };
      files = parsed.testResults ?? [];
    } catch (error) {
      out.push(`  ${packageName}: its report could not be read (${(error as Error).message})`);
      continue;
    }
    for (const file of files) {
      const failed = (file.assertionResults ?? []).filter((test) => test.status === "failed");
      if (file.status !== "failed" && failed.length === 0) continue;
      out.push(`  ${packageName}: ${file.name ?? "(unnamed file)"}`);
      if (file.message) out.push(firstLines(file.message));
      for (const test of failed) {
        out.push(`    ✗ ${test.fullName ?? test.title ?? "(unnamed test)"}`);
        const message = test.failureMessages?.[0];
        if (message) out.push(firstLines(message));
      }
    }
  }
  return out;
}
