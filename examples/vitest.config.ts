import { defineConfig } from "vitest/config";
import { testLimits } from "../vitest.shared";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // The *.pg tests start the built sync server (apps/sync-server/dist, built by turbo's
    // ^build) over a fresh database; the global setup starts one embedded PostgreSQL for the
    // run when TEST_DATABASE_URL is unset.
    globalSetup: ["@chorus/db/vitest-global-setup"],
    ...testLimits,
  },
});
