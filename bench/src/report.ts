import { mkdirSync, writeFileSync } from "node:fs";
import type { Machine } from "./machine.js";
import { formatNumber, overheadRatio, type Target, type Verdict, verdict } from "./stats.js";

/** One measured figure beside the raw baseline measured in the same run. */
export interface Figure {
  name: string;
  unit: string;
  value: number;
  baselineName: string;
  baseline: number;
  better: "higher" | "lower";
  /** What the figure (or its ratio to the baseline) must reach. */
  target?: Target & { on: "figure" | "ratio" };
}

export interface SectionResult {
  number: number;
  title: string;
  figures: Figure[];
  /** How it was measured and anything odd seen while measuring. */
  notes: string[];
  /** Why nothing (or not everything) was measured: a part that is not there yet. */
  notMeasured?: string;
  /** The section broke while measuring: what went wrong. */
  failed?: string;
  seconds: number;
  /** Share of CPU time stolen by the host while the section ran (null: unknown). */
  steal?: number | null;
  /** How the database was settled before the section started (settle.ts). */
  settled?: string;
}

export interface RunReport {
  date: string;
  command: string;
  machine: Machine;
  loadAtEnd: string;
  /** Share of CPU time stolen by the host during the whole run (null: not on Linux). */
  steal: number | null;
  database: string;
  totalSeconds: number;
  sections: SectionResult[];
}

export function ratioOf(figure: Figure): number {
  return overheadRatio(figure.value, figure.baseline, figure.better);
}

export function verdictOf(figure: Figure): Verdict {
  if (!figure.target) return "n/a";
  const judged = figure.target.on === "ratio" ? ratioOf(figure) : figure.value;
  return verdict(judged, figure.target);
}

function targetText(figure: Figure): string {
  const target = figure.target;
  if (!target) return "—";
  const sign = target.kind === "min" ? ">=" : "<=";
  if (target.on === "figure") return `${sign} ${formatNumber(target.value)} ${figure.unit}`;
  const ratio = `ratio ${sign} ${Number(target.value.toFixed(2))}x`;
  // A higher-is-better figure held to a share of its baseline reads better as that share.
  return figure.better === "higher" && target.kind === "max"
    ? `${ratio} (>= ${Math.round(100 / target.value)}% of it)`
    : ratio;
}

interface Row {
  section: string;
  name: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  result: string;
}

function rows(sections: SectionResult[]): Row[] {
  const out: Row[] = [];
  for (const section of sections) {
    for (const figure of section.figures) {
      out.push({
        section: String(section.number),
        name: figure.name,
        value: `${formatNumber(figure.value)} ${figure.unit}`,
        baseline: `${formatNumber(figure.baseline)} ${figure.unit} (${figure.baselineName})`,
        ratio: `${formatNumber(ratioOf(figure))}x`,
        target: targetText(figure),
        result: verdictOf(figure),
      });
    }
    const missing = section.failed
      ? "FAILED (see notes)"
      : section.notMeasured && "not measured yet";
    if (missing) {
      out.push({
        section: String(section.number),
        name: section.title,
        value: missing,
        baseline: "—",
        ratio: "—",
        target: "—",
        result: "n/a",
      });
    }
  }
  return out;
}

/** The numbers as an aligned plain-text table for the terminal. */
export function consoleTable(sections: SectionResult[]): string {
  const header: Row = {
    section: "#",
    name: "figure",
    value: "value",
    baseline: "baseline (same run)",
    ratio: "ratio",
    target: "target",
    result: "result",
  };
  const all = [header, ...rows(sections)];
  const keys = Object.keys(header) as (keyof Row)[];
  const widths = keys.map((key) => Math.max(...all.map((row) => row[key].length)));
  return all
    .map((row) => keys.map((key, i) => row[key].padEnd(widths[i] as number)).join("  "))
    .join("\n");
}

const escapeCell = (text: string) => text.replaceAll("|", "\\|");

export function markdown(report: RunReport): string {
  const { machine } = report;
  const lines = [
    `# Chorus bench — ${report.date}`,
    "",
    "Each figure is printed beside a raw baseline measured in the same run on the same machine.",
    "The ratio says how many times worse the figure is than its baseline (1.00x = as good as raw).",
    "",
    "## Command",
    "",
    "```sh",
    report.command,
    "```",
    "",
    "## Machine",
    "",
    "| | |",
    "| --- | --- |",
    `| CPU | ${machine.cpuModel} |`,
    `| Cores | ${machine.cores} |`,
    `| Memory | ${machine.memoryGiB.toFixed(1)} GiB |`,
    `| OS | ${machine.os} |`,
    `| Node | ${machine.node} |`,
    `| Postgres | ${machine.postgres} (${report.database}) |`,
    `| ulimit -n | ${machine.openFilesLimit ?? "unknown"} |`,
    `| Load average (1/5/15 min) at start | ${machine.loadAtStart} |`,
    `| Load average at end | ${report.loadAtEnd} |`,
    `| CPU stolen by the host during the run | ${report.steal === null ? "unknown" : `${(report.steal * 100).toFixed(1)}%`} |`,
    `| Run time | ${report.totalSeconds.toFixed(0)} s |`,
    "",
    "## Figures",
    "",
    "| # | Figure | Value | Baseline (same run) | Ratio | Target | Result |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows(report.sections).map(
      (row) =>
        `| ${[row.section, row.name, row.value, row.baseline, row.ratio, row.target, row.result]
          .map(escapeCell)
          .join(" | ")} |`,
    ),
    "",
    "## How each figure was measured",
    "",
  ];
  for (const section of report.sections) {
    const steal =
      section.steal === undefined || section.steal === null
        ? ""
        : `, ${(section.steal * 100).toFixed(1)}% of CPU stolen by the host`;
    lines.push(
      `### ${section.number}. ${section.title} (${section.seconds.toFixed(0)} s${steal}${section.settled ? `; ${section.settled}` : ""})`,
      "",
    );
    if (section.notMeasured) lines.push(`**Not measured yet:** ${section.notMeasured}`, "");
    if (section.failed) lines.push(`**Failed:** ${section.failed}`, "");
    for (const note of section.notes) lines.push(`- ${note}`);
    lines.push("");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

export function writeReport(dir: URL, report: RunReport): string {
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${report.date}.md`, dir);
  writeFileSync(file, markdown(report));
  return file.pathname;
}
