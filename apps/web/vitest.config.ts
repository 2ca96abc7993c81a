import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { testLimits } from "../../vitest.shared";

export default defineConfig({
  resolve: {
    alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) },
  },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    // *.pg.test.ts files each create their own database on this run's Postgres (embedded
    // unless TEST_DATABASE_URL is set).
    globalSetup: ["@chorus/db/vitest-global-setup"],
    ...testLimits,
    // next-intl's ESM build imports "next/server" without an extension, which Node's
    // resolver rejects (next has no exports map); let Vite resolve it instead.
    server: { deps: { inline: ["next-intl"] } },
  },
});
