import { describe, expect, it } from "vitest";
import { QUIET_RSS, waitForQuietRss } from "./rss-settle.js";

const MIB = 1024 * 1024;

/** A fake RSS that reads the given values in turn (the last one from then on). */
function readings(values: number[]): () => number {
  let index = 0;
  return () => values[Math.min(index++, values.length - 1)] as number;
}

const noWait = async () => {};

describe("waitForQuietRss (section 3's samples, after the forced GCs)", () => {
  it("waits while the background threads still give pages back, then for quiet reads in a row", async () => {
    // At once 336 MiB; the sweeper returns 28 MiB over the next reads, then nothing moves.
    const read = readings([336 * MIB, 320 * MIB, 310 * MIB, 308 * MIB]);
    const result = await waitForQuietRss(read, noWait);
    expect(result.quiet).toBe(true);
    // Three moving reads, then five quiet ones.
    expect(result.waitedMs).toBe((3 + QUIET_RSS.quietReads) * QUIET_RSS.stepMs);
  });

  it("starts counting again when RSS moves after a quiet read, up or down", async () => {
    const read = readings([100 * MIB, 100 * MIB, 112 * MIB, 117 * MIB, 117 * MIB]);
    const result = await waitForQuietRss(read, noWait);
    expect(result.quiet).toBe(true);
    expect(result.waitedMs).toBe((3 + QUIET_RSS.quietReads) * QUIET_RSS.stepMs);
  });

  it("takes a few pages of movement as quiet", async () => {
    let rss = 200 * MIB;
    const result = await waitForQuietRss(() => {
      rss += 64 * 1024;
      return rss;
    }, noWait);
    expect(result).toEqual({ waitedMs: QUIET_RSS.quietReads * QUIET_RSS.stepMs, quiet: true });
  });

  it("gives up after maxMs when RSS never settles", async () => {
    let rss = 200 * MIB;
    const waits: number[] = [];
    const result = await waitForQuietRss(
      () => {
        rss += MIB;
        return rss;
      },
      async (ms) => {
        waits.push(ms);
      },
    );
    expect(result).toEqual({ waitedMs: QUIET_RSS.maxMs, quiet: false });
    expect(waits.every((ms) => ms === QUIET_RSS.stepMs)).toBe(true);
  });
});
