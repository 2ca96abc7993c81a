import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // *.pg.test.ts files start the real sync server over a fresh database per file; the
    // global setup starts one embedded PostgreSQL for the run when TEST_DATABASE_URL is unset.
    globalSetup: ["@chorus/db/vitest-global-setup"],
    // The CLI tests spawn `node --import tsx`, which takes a second or two on a cold cache.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
