/** Pure number helpers of the bench: percentiles, rates and verdicts. No I/O here. */

/**
 * The p-th percentile (0..100) by the nearest-rank method: the smallest sample such that at
 * least p% of the samples are <= it. NaN for no samples.
 */
export function percentile(samples: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const count = samples.length;
  if (count === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.max(1, Math.ceil((p / 100) * count));
  return sorted[rank - 1] as number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(samples: ArrayLike<number>): LatencySummary {
  let max = Number.NaN;
  for (let i = 0; i < samples.length; i++) {
    const value = samples[i] as number;
    if (!(value <= max)) max = value;
  }
  return {
    count: samples.length,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max,
  };
}

/** Events per second; NaN when no time elapsed. */
export function ratePerSecond(events: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (events * 1000) / elapsedMs : Number.NaN;
}

/**
 * How many times worse the figure is than its baseline: >1 means slower or bigger. For
 * "higher is better" figures (throughput) it is baseline / figure, for "lower is better"
 * (latency, memory) figure / baseline.
 */
export function overheadRatio(
  figure: number,
  baseline: number,
  better: "higher" | "lower",
): number {
  const ratio = better === "higher" ? baseline / figure : figure / baseline;
  return Number.isFinite(ratio) ? ratio : Number.NaN;
}

export type Verdict = "pass" | "FAIL" | "n/a";

export interface Target {
  /** "min": the figure must be >= value; "max": <= value. */
  kind: "min" | "max";
  value: number;
}

export function verdict(figure: number, target: Target | undefined): Verdict {
  if (!target || !Number.isFinite(figure)) return "n/a";
  const ok = target.kind === "min" ? figure >= target.value : figure <= target.value;
  return ok ? "pass" : "FAIL";
}

/** A number for tables: thousands separated, `digits` decimals under 100, none above. */
export function formatNumber(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return "—";
  const decimals = Math.abs(value) >= 100 ? 0 : digits;
  return value.toLocaleString("en-US", {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
}

/** The whole shape of a latency sample set, not only its middle and its tail. */
export interface LatencyDistribution extends LatencySummary {
  min: number;
  p90: number;
  p999: number;
  mean: number;
  /** How many samples fall in each bucket: [edges[i-1], edges[i]) and the last open. */
  buckets: { upTo: number; count: number }[];
}

/** Bucket edges in ms for latency histograms (each bucket holds samples below its edge). */
export const LATENCY_EDGES_MS = [1, 2, 5, 10, 20, 30, 50, 100, 200, 500, Number.POSITIVE_INFINITY];

export function distribution(
  samples: ArrayLike<number>,
  edges: readonly number[] = LATENCY_EDGES_MS,
): LatencyDistribution {
  const summary = summarize(samples);
  const counts = edges.map(() => 0);
  let min = Number.NaN;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const value = samples[i] as number;
    if (!(value >= min)) min = value;
    sum += value;
    const bucket = edges.findIndex((edge) => value < edge);
    const at = bucket < 0 ? edges.length - 1 : bucket;
    counts[at] = (counts[at] as number) + 1;
  }
  return {
    ...summary,
    min,
    p90: percentile(samples, 90),
    p999: percentile(samples, 99.9),
    mean: samples.length > 0 ? sum / samples.length : Number.NaN,
    buckets: edges.map((upTo, i) => ({ upTo, count: counts[i] as number })),
  };
}

/** "p50 1.2 / p90 … / max …" for notes. */
export function describeDistribution(d: LatencyDistribution): string {
  const ms = (value: number) => `${formatNumber(value, 1)} ms`;
  const buckets = d.buckets
    .map((bucket, i) => ({ ...bucket, from: d.buckets[i - 1]?.upTo ?? 0 }))
    .filter((bucket) => bucket.count > 0)
    .map((b) => `${b.from}-${Number.isFinite(b.upTo) ? b.upTo : "∞"} ms: ${b.count}`)
    .join(", ");
  return `min ${ms(d.min)}, p50 ${ms(d.p50)}, p90 ${ms(d.p90)}, p99 ${ms(d.p99)}, p99.9 ${ms(d.p999)}, max ${ms(d.max)}, mean ${ms(d.mean)} over ${d.count} samples; histogram ${buckets}`;
}
