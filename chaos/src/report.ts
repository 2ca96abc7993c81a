import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { RunResult } from "./run.js";

const RESULTS = fileURLToPath(new URL("../results/", import.meta.url));

export function replayCommand(result: RunResult): string {
  const minutes = +(result.durationMs / 60_000).toFixed(2);
  return `npm run chaos -- --seed ${result.seed} --minutes ${minutes} --users ${result.users} --devices ${result.devicesPerUser} --fault-gap-ms ${result.faultGapMs}`;
}

const ms = (value: number | null) => (value === null ? "n/a" : `${(value / 1000).toFixed(1)} s`);

/** The run as markdown: faults by kind, ops, convergence, verdict, violations, timeline. */
export function renderReport(results: readonly RunResult[], title: string): string {
  const lines: string[] = [`# ${title}`, ""];
  const failed = results.filter((r) => r.violations.length > 0);
  lines.push(
    `Verdict: **${failed.length === 0 ? "PASS" : "FAIL"}** (${results.length} run(s), ${failed.length} failed)`,
    "",
  );
  for (const r of results) {
    const faultTotal = Object.entries(r.faults)
      // Counts of what happened, not faults of their own.
      .filter(
        ([kind]) =>
          kind !== "token-expiry" &&
          kind !== "push-answers-actually-cut" &&
          kind !== "revoked-with-ops-in-flight",
      )
      .reduce((sum, [, n]) => sum + n, 0);
    const kills =
      (r.faults["device-sigkill"] ?? 0) +
      (r.faults["server-sigkill"] ?? 0) +
      (r.faults["postgres-sigkill"] ?? 0) +
      (r.faults["compaction-away"] ?? 0);
    lines.push(
      `## Seed ${r.seed}: ${r.violations.length === 0 ? "pass" : "FAIL"}`,
      "",
      `- ${(r.durationMs / 60_000).toFixed(1)} min of faults, ${r.users} users x ${r.devicesPerUser} devices, 2 server replicas`,
      `- replay: \`${replayCommand(r)}\``,
      `- faults injected: ${faultTotal}, of which SIGKILLs (devices, servers, Postgres, away devices): ${kills}; tokens expired mid-run: ${r.faults["token-expiry"] ?? 0}`,
      `- ops written by devices: ${r.opsWritten}; acknowledged and stored: ${r.opsAcknowledged}; re-stamped after a refused batch: ${r.opsRestamped}; superseded and compacted: ${r.opsCompactedAway}; rows ever stored: ${r.opsStored}`,
      `- edits refused locally (a raced delete): ${r.editsFailed}; resyncs: ${r.resyncs}`,
      `- time to converge after healing, per device: p50 ${ms(r.convergeP50)}, p99 ${ms(r.convergeP99)}`,
      `- lost: ${r.violations.filter((v) => v.startsWith("LOST")).length}, duplicated: ${r.violations.filter((v) => v.includes("stored") && v.includes("times")).length}, diverged: ${r.violations.filter((v) => v.startsWith("DIVERGED")).length}, wedged: ${r.violations.filter((v) => v.includes("wedged")).length}`,
      "",
      "| Fault | Count |",
      "| --- | --- |",
      ...Object.entries(r.faults)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([kind, n]) => `| ${kind} | ${n} |`),
      "",
    );
    if (r.violations.length > 0) {
      lines.push(
        "Violations:",
        "",
        ...r.violations.slice(0, 50).map((v) => `- ${v.replaceAll("\n", " ")}`),
        "",
      );
      if (r.firstDivergence) lines.push(`First divergence: ${r.firstDivergence}`, "");
      lines.push(
        "Fault timeline:",
        "",
        "```",
        ...r.timeline.map(
          (e) => `${(e.atMs / 1000).toFixed(1).padStart(7)}s ${e.kind} ${e.target} ${e.detail}`,
        ),
        "```",
        "",
      );
    }
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

export function writeReport(markdown: string, name: string): string {
  mkdirSync(RESULTS, { recursive: true });
  const file = `${RESULTS}${name}.md`;
  writeFileSync(file, markdown);
  return file;
}
