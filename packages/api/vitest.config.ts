import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["@chorus/db/vitest-global-setup"],
    // Above the 60 s bound of each wait (@chorus/testing): a test may wait for several things
    // on a busy machine; only a hang reaches these.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
