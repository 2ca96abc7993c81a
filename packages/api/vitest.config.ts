import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["@chorus/db/vitest-global-setup"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
