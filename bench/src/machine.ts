import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import pg from "pg";

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  postgres: string;
  os: string;
  /** The open-files limit this process runs under (`ulimit -n`). */
  openFilesLimit: number | null;
  loadAtStart: string;
}

/** `ulimit -n` as a child shell sees it: children inherit our limits. */
export function openFilesLimit(): number | null {
  try {
    const out = execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim();
    return out === "unlimited" ? Number.POSITIVE_INFINITY : Number(out);
  } catch {
    return null;
  }
}

/** The machine's CPU time so far (Linux /proc/stat, in ticks): all of it, and what the host stole. */
export interface CpuTimes {
  total: number;
  steal: number;
}

export function cpuTimes(): CpuTimes | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already within user).
    const counted = fields.slice(0, 8);
    if (counted.length < 8 || counted.some((n) => !Number.isFinite(n))) return null;
    return { total: counted.reduce((sum, n) => sum + n, 0), steal: counted[7] as number };
  } catch {
    return null;
  }
}

/**
 * Share of the machine's CPU time the hypervisor gave to someone else between two readings:
 * a virtual machine's speed drifts with it, so the report shows it beside the figures.
 */
export function stealShare(before: CpuTimes | null, after: CpuTimes | null): number | null {
  if (!before || !after || after.total <= before.total) return null;
  return (after.steal - before.steal) / (after.total - before.total);
}

export function loadAverage(): string {
  return os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(" / ");
}

export async function describeMachine(databaseUrl: string): Promise<Machine> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let postgres: string;
  try {
    const { rows } = await client.query<{ version: string }>("SELECT version() AS version");
    postgres = rows[0]?.version.split(",")[0] ?? "unknown";
  } finally {
    await client.end();
  }
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGiB: os.totalmem() / 1024 ** 3,
    node: process.version,
    postgres,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    openFilesLimit: openFilesLimit(),
    loadAtStart: loadAverage(),
  };
}
