import { defineConfig } from "vitest/config";
import { testLimits } from "../../vitest.shared";

export default defineConfig({
  test: {
    globalSetup: ["./src/vitest-global-setup.ts"],
    ...testLimits,
  },
});
