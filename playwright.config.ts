import { defineConfig, devices } from "@playwright/test";
import { DATABASE_URL_FILE } from "./e2e/support/system.ts";
import { E2E_TIMEOUTS } from "./e2e/support/timeouts.ts";

// Browser flows against the real system: scripts/start.ts --ephemeral brings up a throwaway
// embedded Postgres (or uses DATABASE_URL), the sync server and the built web app.
const WEB_PORT = Number(process.env.E2E_WEB_PORT ?? 3100);
const SYNC_PORT = Number(process.env.E2E_SYNC_PORT ?? 4100);
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: E2E_TIMEOUTS.test,
  expect: { timeout: E2E_TIMEOUTS.expect },
  reporter: [["list"], ["html", { open: "never", outputFolder: "playwright-report" }]],
  use: {
    baseURL: `http://127.0.0.1:${WEB_PORT}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    locale: "en-US",
    actionTimeout: E2E_TIMEOUTS.action,
    navigationTimeout: E2E_TIMEOUTS.navigation,
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: chromium,
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
          ],
        },
      },
    },
  ],
  webServer: {
    command: "npx tsx scripts/start.ts --ephemeral",
    // start.ts prints this once the sync server's /healthz and the web app both answer.
    wait: { stdout: /\[chorus\] ready:/ },
    // CHORUS_DATABASE_URL_FILE: start.ts writes the database URL there for the fixtures.
    env: {
      WEB_PORT: String(WEB_PORT),
      SYNC_PORT: String(SYNC_PORT),
      CHORUS_DATABASE_URL_FILE: DATABASE_URL_FILE,
      // Flows run compaction themselves; a nightly run must not move a watermark mid-test.
      COMPACTION_TIME: "off",
      // Every flow signs up from 127.0.0.1; a fast run creates more than the default 30
      // accounts in ten minutes, and the throttle would refuse the rest.
      SIGN_UPS_PER_IP: "10000",
      // The console's throughput history: a sample every 2 s, so a flow sees it fill.
      THROUGHPUT_SAMPLE_MS: "2000",
    },
    reuseExistingServer: false,
    timeout: 180_000,
    stdout: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 15_000 },
  },
});
