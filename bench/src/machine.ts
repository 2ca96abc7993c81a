import { execFileSync } from "node:child_process";
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
