import { writeFileSync } from "node:fs";
import type { Section } from "../context.js";
import type { Figure } from "../report.js";
import { lineChart } from "../svg.js";
import { measureSync, type Scenario } from "./fanout-latency.js";

const RATES = [100, 200, 400, 800, 1_600];
const P99_LIMIT_MS = 25;
/** Deliveries sustained below this share of those offered: the server has fallen behind. */
const BEHIND = 0.95;
const DURATION_S = 10;

interface Step {
  rate: number;
  p50: number;
  p99: number;
  max: number;
  /** Share of one core the server used. */
  cpu: number;
  cpuPerDeliveryUs: number;
  sustained: number;
  offered: number;
}

/**
 * The 250 users x 4 devices fan-out of section 2 at rising push rates, each on a fresh server,
 * until p99 passes 25 ms or deliveries fall behind: where one replica on this machine stops
 * meeting the latency target. Draws p50/p99 and server CPU against the rate as SVG next to the
 * report.
 */
export const saturation: Section = {
  number: 8,
  title: "Saturation curve, 250 users x 4 devices",
  budgetMs: 360_000,
  async run(context, progress) {
    const steps: Step[] = [];
    let stoppedBecause = `every rate up to ${RATES[RATES.length - 1]} pushes/s stayed within p99 <= ${P99_LIMIT_MS} ms`;
    for (const rate of RATES) {
      const scenario: Scenario = {
        key: "devices",
        users: 250,
        subscribers: 4,
        rate,
        title: `250 users x 4 devices, ${rate} pushes/s`,
        withTarget: false,
      };
      progress.note(`== ${rate} pushes/s`);
      const run = await measureSync(context, scenario, progress);
      const deliveries = run.commit.count;
      const elapsedMs = run.cpu.result;
      const offered = rate * scenario.subscribers;
      const step: Step = {
        rate,
        p50: run.commit.p50,
        p99: run.commit.p99,
        max: run.commit.max,
        cpu: run.cpu.server,
        cpuPerDeliveryUs: (run.cpu.server * elapsedMs * 1000) / Math.max(1, deliveries),
        sustained: (deliveries * 1000) / elapsedMs,
        offered,
      };
      steps.push(step);
      progress.note(
        `${rate} pushes/s: p50 ${step.p50.toFixed(1)} ms, p99 ${step.p99.toFixed(1)} ms, server ${(step.cpu * 100).toFixed(0)}% of a core, ${Math.round(step.sustained)} of ${offered} deliveries/s`,
      );
      if (step.p99 > P99_LIMIT_MS) {
        stoppedBecause = `stopped at ${rate} pushes/s: p99 ${step.p99.toFixed(1)} ms passed ${P99_LIMIT_MS} ms`;
        break;
      }
      if (step.sustained < offered * BEHIND) {
        stoppedBecause = `stopped at ${rate} pushes/s: ${Math.round(step.sustained)} deliveries/s sustained of ${offered} offered`;
        break;
      }
    }
    const within = steps.filter((s) => s.p99 <= P99_LIMIT_MS && s.sustained >= s.offered * BEHIND);
    const highest = within.length > 0 ? (within[within.length - 1] as Step).rate : 0;

    const date = new Date().toISOString().slice(0, 10);
    const chart = `${date}-saturation.svg`;
    writeFileSync(
      new URL(`../../results/${chart}`, import.meta.url),
      lineChart({
        title: "Commit-to-delivery, 250 users x 4 devices, by push rate",
        xLabel: "pushes/s (each to 4 sockets)",
        yLabel: "ms / % of a core",
        logX: true,
        series: [
          {
            label: "p50 (ms)",
            color: "#0066cc",
            points: steps.map((s) => ({ x: s.rate, y: s.p50 })),
          },
          {
            label: "p99 (ms)",
            color: "#cc6600",
            points: steps.map((s) => ({ x: s.rate, y: s.p99 })),
          },
          {
            label: "server CPU (% of a core)",
            color: "#339933",
            points: steps.map((s) => ({ x: s.rate, y: s.cpu * 100 })),
          },
        ],
        lines: [{ y: P99_LIMIT_MS, label: `p99 target ${P99_LIMIT_MS} ms` }],
      }),
    );

    const figures: Figure[] = [
      {
        name: `highest push rate with p99 <= ${P99_LIMIT_MS} ms (250 users x 4 devices)`,
        unit: "pushes/s",
        value: highest,
        baselineName: "highest rate tried",
        baseline: RATES[RATES.length - 1] as number,
        better: "higher",
        target: { on: "figure", kind: "min", value: 800 },
      },
    ];
    return {
      figures,
      notes: [
        `Section 2's target shape (1,000 subscribed sockets of 250 users, a fifth device of each user pushing one op per push over HTTP, open loop, ${DURATION_S} s measured after 5 s of warm-up) on a fresh sync server per rate, at ${RATES.join(", ")} pushes/s until p99 passes ${P99_LIMIT_MS} ms or deliveries fall below ${BEHIND * 100}% of those offered; ${stoppedBecause}. Latency is commit-to-delivery (from the op's created_at, an upper bound).`,
        ...steps.map(
          (s) =>
            `${s.rate} pushes/s: p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, max ${s.max.toFixed(1)} ms; server ${(s.cpu * 100).toFixed(0)}% of a core, ${s.cpuPerDeliveryUs.toFixed(0)} µs CPU per delivery (its share of the push included); ${Math.round(s.sustained).toLocaleString("en-US")} of ${s.offered.toLocaleString("en-US")} deliveries/s sustained.`,
        ),
        `Chart: [${chart}](${chart}) (p50, p99 and server CPU by rate; written next to this report).`,
      ],
    };
  },
};
