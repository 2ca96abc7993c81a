import { defineConfig } from "vitest/config";
import { testLimits } from "../../vitest.shared";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // No database and no server here: tests that need the real sync server live in
    // system-tests/. The CLI tests spawn `node --import tsx`, slow on a cold cache.
    ...testLimits,
  },
});
