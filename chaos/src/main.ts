import { parseArgs } from "node:util";
import { renderReport, replayCommand, writeReport } from "./report.js";
import { type RunResult, runChaos } from "./run.js";

/*
 * npm run chaos -- --minutes N --seed S [--users U --devices D --fault-gap-ms G]
 * One seeded run: prints the seed first, the fault timeline as it goes, then the verdict;
 * writes chaos/results/<date>-seed-<S>.md and exits 1 when a check failed.
 */
const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "1" },
    seed: { type: "string" },
    users: { type: "string", default: "2" },
    devices: { type: "string", default: "3" },
    "fault-gap-ms": { type: "string", default: "4000" },
    "keep-work-dir": { type: "boolean", default: false },
    "no-report": { type: "boolean", default: false },
  },
});
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const minutes = Number(values.minutes);
const users = Number(values.users);
const devices = Number(values.devices);
const gap = Number(values["fault-gap-ms"]);
if (
  ![seed, minutes, users, devices, gap].every((n) => Number.isFinite(n) && n > 0) ||
  devices < 1
) {
  console.error(
    "usage: npm run chaos -- --minutes N --seed S [--users U] [--devices D] [--fault-gap-ms G]",
  );
  process.exit(2);
}
console.log(`chaos: seed ${seed}, ${minutes} min, ${users} users x ${devices} devices`);
const result: RunResult = await runChaos({
  seed,
  durationMs: Math.round(minutes * 60_000),
  users,
  devicesPerUser: devices,
  faultGapMs: gap,
  redisUrl: process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  log: (line) => console.log(line),
  keepWorkDir: values["keep-work-dir"],
});
const markdown = renderReport([result], `Chaos run, seed ${seed}`);
if (!values["no-report"]) {
  const file = writeReport(markdown, `${new Date().toISOString().slice(0, 10)}-seed-${seed}`);
  console.log(`report: ${file}`);
}
console.log(markdown);
if (result.violations.length > 0) {
  console.error(
    `FAILED (seed ${seed}); replay: ${replayCommand(result)}; files kept in ${result.workDir}`,
  );
  process.exit(1);
}
process.exit(0);
