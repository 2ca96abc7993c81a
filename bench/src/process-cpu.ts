import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let clockTicks: number | undefined;

/**
 * CPU time (user + system, ms) a process of this machine has used so far, from
 * /proc/<pid>/stat; null when it cannot be read (another machine's process, or not Linux).
 * For the database's server processes when Postgres runs on this machine, and for the sync
 * server child read by the engine child at a resync's phase changes.
 */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    if (!Number.isFinite(ticks)) return null;
    clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    return (ticks * 1000) / clockTicks;
  } catch {
    return null;
  }
}
