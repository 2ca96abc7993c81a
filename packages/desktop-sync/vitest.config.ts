import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // The CLI tests spawn `node --import tsx`, which takes a second or two on a cold cache.
    testTimeout: 30_000,
  },
});
