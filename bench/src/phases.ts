import { percentile } from "./stats.js";

/**
 * Where one edit's time went on its way from engine A to engine B (section 5): its wall-clock
 * stamps, in path order, cut the latency into consecutive stretches. A stamp that was not seen
 * (null) merges its stretch into the next one, so the stretches always add up to the whole.
 */
export interface PhaseSpec {
  /** The stretch that ends at this stamp. */
  name: string;
  /** The stamp's row: wall-clock ms by edit index. */
  stamps: ArrayLike<number | null>;
}

export interface EditPhases {
  edit: number;
  totalMs: number;
  /** Phase name -> ms (only phases whose end stamp was seen). */
  phases: Record<string, number>;
  /** The phase that took longest. */
  slowest: string;
  /** Phase name -> [start, end] wall-clock ms. */
  spans: Record<string, [number, number]>;
}

/** Each edit's stretches, from `start` (wall-clock ms by edit) through `phases` in order. */
export function editPhases(
  start: ArrayLike<number | null>,
  phases: PhaseSpec[],
  edits: number,
): EditPhases[] {
  const out: EditPhases[] = [];
  for (let k = 0; k < edits; k++) {
    const from = start[k];
    if (typeof from !== "number") continue;
    const last = phases.at(-1)?.stamps[k];
    if (typeof last !== "number") continue;
    let previous = from;
    const result: EditPhases = {
      edit: k,
      totalMs: last - from,
      phases: {},
      spans: {},
      slowest: "",
    };
    let longest = Number.NEGATIVE_INFINITY;
    for (const phase of phases) {
      const at = phase.stamps[k];
      if (typeof at !== "number") continue;
      // Stamps of different processes may come a fraction of a ms out of order.
      const end = Math.max(at, previous);
      const ms = end - previous;
      result.phases[phase.name] = ms;
      result.spans[phase.name] = [previous, end];
      if (ms > longest) {
        longest = ms;
        result.slowest = phase.name;
      }
      previous = end;
    }
    out.push(result);
  }
  return out;
}

export interface PhaseSummary {
  name: string;
  p50: number;
  p99: number;
  max: number;
  /** Of the slow edits, how many spent their longest stretch here. */
  slowestOf: number;
}

/** Each phase's p50 / p99 / max over all edits, and how many slow edits it was the slowest of. */
export function summarizePhases(
  all: EditPhases[],
  names: string[],
  slowMs: number,
): { phases: PhaseSummary[]; slow: EditPhases[] } {
  const slow = all.filter((edit) => edit.totalMs > slowMs);
  const phases = names.map((name) => {
    const samples = all.flatMap((edit) => {
      const ms = edit.phases[name];
      return ms === undefined ? [] : [ms];
    });
    return {
      name,
      p50: samples.length > 0 ? percentile(samples, 50) : Number.NaN,
      p99: samples.length > 0 ? percentile(samples, 99) : Number.NaN,
      max: samples.length > 0 ? Math.max(...samples) : Number.NaN,
      slowestOf: slow.filter((edit) => edit.slowest === name).length,
    };
  });
  return { phases, slow };
}

/** Garbage-collection pauses overlapping [from, to] (wall-clock ms): their total, ms. */
export function pausedDuring(
  pauses: ReadonlyArray<{ at: number; ms: number }>,
  from: number,
  to: number,
): number {
  let total = 0;
  for (const pause of pauses) {
    const overlap = Math.min(to, pause.at + pause.ms) - Math.max(from, pause.at);
    if (overlap > 0) total += overlap;
  }
  return total;
}
