export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until check() is true or the bound passes; returns whether it became true. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  boundMs: number,
  everyMs = 250,
  /** When the bound starts over (ms epoch): e.g. the awaited device's last restart. */
  restartedAt: () => number = () => 0,
): Promise<boolean> {
  const started = Date.now();
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= Math.max(started, restartedAt()) + boundMs) return false;
    await sleep(everyMs);
  }
}

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? null;
}

/** JSON with object keys sorted (JSONB does not keep key order). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          ),
        )
      : v,
  );
}

/**
 * Every child process a run started (servers, devices; Postgres's postmaster is added by pid).
 * When the harness itself dies (a bug, an unhandled error), they are SIGKILLed on its way out,
 * so a crashed run leaves no orphans behind on a shared machine.
 */
const children = new Set<number>();
export function ownChild(pid: number | undefined): void {
  if (pid !== undefined) children.add(pid);
}
export function releaseChild(pid: number | undefined): void {
  if (pid !== undefined) children.delete(pid);
}
process.on("exit", () => {
  for (const pid of children) {
    try {
      process.kill(pid, "SIGCONT");
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});
