/**
 * Waiting for a process's RSS to stop moving after a forced GC. gc() returns when V8's full
 * collection has marked, but V8 sweeps the old space and hands the pages it emptied back to the
 * system on background threads after that, and those threads allocate and free through malloc
 * meanwhile: read at once, RSS was still moving, by up to 28 MiB down (pages already freed) or
 * 17 MiB up, by how far those threads had got
 * (docs/adr/0044-idle-socket-rss-outside-the-v8-heap.md).
 */
export interface QuietRssOptions {
  /** Between two reads. */
  stepMs: number;
  /** Reads in a row within `toleranceBytes` of the one before. */
  quietReads: number;
  /** RSS moving by less than this between two reads is quiet (a few pages of the event loop). */
  toleranceBytes: number;
  /** The longest it waits, quiet or not. */
  maxMs: number;
}

export const QUIET_RSS: QuietRssOptions = {
  stepMs: 100,
  quietReads: 5,
  toleranceBytes: 256 * 1024,
  maxMs: 5_000,
};

/** Reads RSS every `stepMs` until `quietReads` reads in a row were quiet, or `maxMs` passed. */
export async function waitForQuietRss(
  readRss: () => number,
  wait: (ms: number) => Promise<void>,
  options: QuietRssOptions = QUIET_RSS,
): Promise<{ waitedMs: number; quiet: boolean }> {
  let last = readRss();
  let quiet = 0;
  let waitedMs = 0;
  while (waitedMs < options.maxMs && quiet < options.quietReads) {
    await wait(options.stepMs);
    waitedMs += options.stepMs;
    const now = readRss();
    quiet = Math.abs(now - last) <= options.toleranceBytes ? quiet + 1 : 0;
    last = now;
  }
  return { waitedMs, quiet: quiet >= options.quietReads };
}
