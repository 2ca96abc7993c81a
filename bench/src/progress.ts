/** Progress lines of a long bench step: one line per tick, each with the elapsed time. */
export interface Progress {
  /** A line now. */
  note(message: string): void;
  /** Calls `describe` every `everyMs` until the returned stop() is called. */
  every(everyMs: number, describe: () => string): () => void;
}

export function createProgress(prefix: string): Progress {
  const started = performance.now();
  const stamp = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s`;
  const note = (message: string) => console.log(`  [${prefix} ${stamp()}] ${message}`);
  return {
    note,
    every(everyMs, describe) {
      const timer = setInterval(() => note(describe()), everyMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Polls `check` every `intervalMs` until it is true or `timeoutMs` passes; returns whether it
 * became true.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function inWaves<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
