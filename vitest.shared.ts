import { basename, join } from "node:path";

/*
 * Limits every vitest package applies (each package's vitest.config.ts spreads these). Tests
 * wait for events and conditions; a limit is only the bound a real hang reaches, sized for a
 * shared CI machine whose two cores may be busy with other work (a property test that takes
 * 1 s on a quiet machine took 7 s under load and hit vitest's 5 s default).
 */
export const testLimits = {
  testTimeout: 120_000,
  hookTimeout: 120_000,
  teardownTimeout: 60_000,
  ...failureReport(),
} as const;

/**
 * Under `npm test` (scripts/test.ts sets CHORUS_TEST_REPORT_DIR), each package also writes
 * vitest's JSON report there, named after its folder, so the runner can list every failed test
 * once more at the very end of the output: with several packages' logs interleaved by
 * Turborepo, a failure's own lines may be thousands of lines above the last one.
 */
function failureReport(): { reporters?: string[]; outputFile?: { json: string } } {
  const dir = process.env.CHORUS_TEST_REPORT_DIR;
  if (!dir) return {};
  return {
    reporters: ["default", "json"],
    outputFile: { json: join(dir, `${basename(process.cwd())}.json`) },
  };
}
