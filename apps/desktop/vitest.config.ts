import { defineConfig } from "vitest/config";
import { testLimits } from "../../vitest.shared";

// Tests cover the main process's pure parts (IPC dispatch, sender checks, CSP). Anything
// importing "electron" cannot load here: the package is only a stub without its binary.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
    ...testLimits,
  },
});
