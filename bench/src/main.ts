import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { exportPublicJwks, generateSigningKey } from "@chorus/auth";
import { redactDatabaseUrl } from "@chorus/db";
import pg from "pg";
import { killChildren, profileChildrenInto } from "./children.js";
import type { BenchContext, Section, SectionOutcome } from "./context.js";
import { createBenchDatabase } from "./database.js";
import { commandPrefix, loadEnv } from "./env.js";
import { cpuTimes, describeMachine, loadAverage, stealShare } from "./machine.js";
import { createProgress } from "./progress.js";
import { consoleTable, type SectionResult, writeReport } from "./report.js";
import { compaction } from "./sections/compaction.js";
import { crossReplica } from "./sections/cross-replica.js";
import { encryptionCost } from "./sections/encryption-cost.js";
import { engineLatency } from "./sections/engine-latency.js";
import { fanoutLatency } from "./sections/fanout-latency.js";
import { idleMemory } from "./sections/idle-memory.js";
import { largeResync } from "./sections/large-resync.js";
import { manySockets } from "./sections/many-sockets.js";
import { partitioned } from "./sections/partitioned.js";
import { prismaOverhead } from "./sections/prisma-overhead.js";
import { pushThroughput } from "./sections/push-throughput.js";
import { saturation, writeStallsInto } from "./sections/saturation.js";
import { settleDatabase } from "./settle.js";

/** `npm run bench`: every figure beside its raw baseline, printed and written to results/. */
const SECTIONS: Section[] = [
  pushThroughput,
  prismaOverhead,
  fanoutLatency,
  idleMemory,
  compaction,
  engineLatency,
  crossReplica,
  saturation,
  encryptionCost,
  largeResync,
  partitioned,
  manySockets,
];
/**
 * Past this the run stops itself, whatever is still going (more when opt-in sections run). A
 * full run takes 10-13 minutes on 2 cores; on a slow stretch of a shared machine runs took 11.6
 * and 12.7, and one went past a 12-minute limit in its last section, losing the whole report:
 * each section has its own budget, so this only has to catch a run that hangs.
 */
const RUN_LIMIT_MS = 16 * 60_000;

/** The sections this run measures: those BENCH_ONLY names, or every one that is not opt-in. */
function selected(sections: Set<number> | null): Section[] {
  return SECTIONS.filter((section) => (sections ? sections.has(section.number) : !section.optIn));
}

/** The run's own limit: 16 minutes, or the selected opt-in sections' budgets on top of it. */
function runLimitMs(sections: Section[]): number {
  const optIn = sections.filter((section) => section.optIn);
  return RUN_LIMIT_MS + optIn.reduce((sum, section) => sum + section.budgetMs, 0);
}

function withBudget<T>(work: Promise<T>, budgetMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} took longer than its ${budgetMs / 1000} s budget`)),
      budgetMs,
    );
  });
  return Promise.race([work, overrun]).finally(() => clearTimeout(timer));
}

async function runSection(section: Section, context: BenchContext): Promise<SectionResult> {
  console.log(`\n== ${section.number}. ${section.title}`);
  const settled = await settleDatabase(context.pool);
  console.log(`  ${settled}`);
  const started = performance.now();
  const cpuBefore = cpuTimes();
  let outcome: SectionOutcome;
  try {
    outcome = await withBudget(
      section.run(context, createProgress(`${section.number}`)),
      section.budgetMs,
      section.title,
    );
  } catch (error) {
    // Whatever the section started must not linger into the next one.
    killChildren();
    const message = error instanceof Error ? error.message : String(error);
    console.error(`  ${section.title} failed: ${message}`);
    outcome = { figures: [], notes: [], failed: message };
  }
  const result: SectionResult = {
    number: section.number,
    title: section.title,
    seconds: (performance.now() - started) / 1000,
    steal: stealShare(cpuBefore, cpuTimes()),
    settled,
    ...outcome,
  };
  if (result.steal) console.log(`  CPU stolen by the host: ${(result.steal * 100).toFixed(1)}%`);
  if (result.notMeasured) console.log(`  not measured yet: ${result.notMeasured}`);
  if (result.figures.length > 0)
    console.log(`\n${consoleTable([{ ...result, notMeasured: undefined, failed: undefined }])}`);
  return result;
}

async function main(): Promise<number> {
  const env = loadEnv();
  if (env.BENCH_CPU_PROFILE_DIR) profileChildrenInto(env.BENCH_CPU_PROFILE_DIR);
  if (env.BENCH_STALLS_DIR) writeStallsInto(env.BENCH_STALLS_DIR);
  const started = performance.now();
  const date = new Date().toISOString().slice(0, 10);
  const prefix = commandPrefix(env, redactDatabaseUrl);
  const command = `${prefix ? `${prefix} ` : ""}npm run bench   # from the repository root`;
  console.log(`Chorus bench ${date}: ${command}`);

  const runCpuBefore = cpuTimes();
  const database = await createBenchDatabase(env);
  const pool = new pg.Pool({ connectionString: database.url, max: 20 });
  try {
    const machine = await describeMachine(database.url);
    console.log(
      `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB.toFixed(1)} GiB, Node ${machine.node}, ${machine.postgres}, ulimit -n ${machine.openFilesLimit}, load ${machine.loadAtStart}`,
    );
    console.log(`database: ${database.where}`);
    const key = await generateSigningKey();
    const context: BenchContext = {
      databaseUrl: database.url,
      pool,
      key,
      jwks: await exportPublicJwks([key]),
      redisUrl: env.REDIS_URL,
      openFilesLimit: machine.openFilesLimit,
    };
    const sections: SectionResult[] = [];
    for (const section of selected(env.sections)) {
      sections.push(await runSection(section, context));
    }
    const totalSeconds = (performance.now() - started) / 1000;
    console.log(`\n== All figures (${totalSeconds.toFixed(0)} s)\n\n${consoleTable(sections)}`);
    const file = writeReport(new URL("../results/", import.meta.url), {
      date,
      command,
      machine,
      loadAtEnd: loadAverage(),
      steal: stealShare(runCpuBefore, cpuTimes()),
      database: database.where.replace(/, database .*/, ""),
      totalSeconds,
      sections,
    });
    formatReport(file);
    console.log(`\nwritten: ${file}`);
    return sections.some((section) => section.failed) ? 1 : 0;
  } finally {
    await pool.end();
    await database.drop();
  }
}

/** Formats the report as the repository's formatter would, so a committed report passes lint. */
function formatReport(file: string): void {
  try {
    const biome = fileURLToPath(import.meta.resolve("@biomejs/biome/bin/biome"));
    execFileSync(process.execPath, [biome, "format", "--write", file], { stdio: "ignore" });
  } catch (error) {
    console.warn(`could not format ${file} (run npm run format): ${(error as Error).message}`);
  }
}

/** Invalid settings are reported by main(); the watchdog then keeps the plain limit. */
const runLimit = (() => {
  try {
    return runLimitMs(selected(loadEnv().sections));
  } catch {
    return RUN_LIMIT_MS;
  }
})();
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${runLimit / 60_000} minutes; stopping`);
  killChildren();
  process.exit(2);
}, runLimit);
watchdog.unref();

main().then(
  (code) => {
    clearTimeout(watchdog);
    process.exit(code);
  },
  (error: unknown) => {
    killChildren();
    console.error("bench failed:", error);
    process.exit(1);
  },
);
