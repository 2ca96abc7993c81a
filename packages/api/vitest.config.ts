import { defineConfig } from "vitest/config";
import { testLimits } from "../../vitest.shared";

export default defineConfig({
  test: {
    globalSetup: ["@chorus/db/vitest-global-setup"],
    ...testLimits,
  },
});
