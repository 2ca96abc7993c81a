import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // No database and no server here: tests that need the real sync server live in
    // system-tests/. The CLI tests spawn `node --import tsx`, slow on a cold cache.
    // Above the 60 s bound of each wait (@chorus/testing): a test may wait for several things
    // on a busy machine; only a hang reaches these.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
