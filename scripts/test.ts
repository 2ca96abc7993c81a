// `npm test`: every check CI runs. First proof that a failing test fails each runner
// (scripts/check-exit-codes.ts), then typecheck, lint and vitest in every package (Turborepo),
// then the Playwright flows. When TEST_DATABASE_URL is unset, ONE embedded PostgreSQL serves the whole
// run (each test file still creates its own database on it).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from "@chorus/db/embedded";
import { runChild } from "@chorus/testing/run-child";
import { failureDigest } from "./failure-digest";

// Asynchronous on purpose: the embedded Postgres's log is a pipe this process must keep
// reading while the suites run (see runChild).
async function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  console.log(`\n[chorus test] ${command} ${args.join(" ")}`);
  return runChild(command, args, env);
}

async function main(): Promise<void> {
  let server: EmbeddedPostgresHandle | undefined;
  let dataParent: string | undefined;
  const env = { ...process.env };
  const reportDir = mkdtempSync(join(tmpdir(), "chorus-test-reports-"));
  env.CHORUS_TEST_REPORT_DIR = reportDir;
  if (!env.TEST_DATABASE_URL) {
    dataParent = mkdtempSync(join(tmpdir(), "chorus-test-pg-"));
    console.log(
      "[chorus test] TEST_DATABASE_URL is unset: starting an embedded PostgreSQL for this run",
    );
    server = await startEmbeddedPostgres({ dataDir: join(dataParent, "data"), persistent: false });
    env.TEST_DATABASE_URL = server.url;
  }

  let status = 1;
  try {
    status = await run("npx", ["tsx", "scripts/check-exit-codes.ts"], env);
    if (status === 0) {
      status = await run(
        "npx",
        [
          "turbo",
          "run",
          "typecheck",
          "lint",
          "test",
          "chaos:short",
          "check:root",
          "--concurrency=3",
          "--continue",
        ],
        env,
      );
    }
    if (status === 0) status = await run("npm", ["run", "e2e"], env);
    const digest = failureDigest(reportDir);
    if (digest.length > 0)
      console.log(`\n[chorus test] failed vitest tests:\n${digest.join("\n")}`);
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
    await server?.stop();
    if (dataParent) rmSync(dataParent, { recursive: true, force: true });
  }
  console.log(status === 0 ? "\n[chorus test] all checks passed" : "\n[chorus test] FAILED");
  process.exit(status);
}

void main();
