import { defineConfig } from "vitest/config";
import { testLimits } from "../../vitest.shared.ts";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // *.pg.test.ts files start the real sync server over a fresh database per file; the
    // global setup starts one embedded PostgreSQL for the run when TEST_DATABASE_URL is unset.
    globalSetup: ["@chorus/db/vitest-global-setup"],
    ...testLimits,
  },
});
