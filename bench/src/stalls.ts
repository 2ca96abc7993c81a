import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";

/**
 * What a process was doing instead of serving its sockets, with wall-clock times, so that a
 * slow delivery can be matched with the pause that made it: the garbage collector's pauses
 * (PerformanceObserver 'gc') and the event loop's late turns (a timer every TICK_MS that fires
 * late by more than LATE_MS: synchronous work, a pause, or a starved CPU). Kept only between
 * reset() and dump(), for the window a section measures.
 */
export interface Pause {
  /** Wall-clock ms (performance.timeOrigin + now) when the pause began. */
  at: number;
  ms: number;
}

export interface StallDump {
  /** Garbage-collection pauses; `major` for mark-sweep-compact, else scavenges and the rest. */
  gc: Array<Pause & { major: boolean }>;
  /** Turns of the event loop that came later than LATE_MS after they were due. */
  late: Pause[];
  /** The event loop's delay over the window (monitorEventLoopDelay, ms). */
  loopDelay: { p99: number; max: number };
  /**
   * Wall clock and the monotonic clock (process.hrtime, ms; the clock of a V8 .cpuprofile's
   * timestamps, in µs there) at reset: places the window in the process's CPU profile.
   */
  resetAt: { wallMs: number; monotonicMs: number };
}

export const TICK_MS = 10;
export const LATE_MS = 5;
// perf_hooks.constants.NODE_PERFORMANCE_GC_MAJOR
const GC_MAJOR = 4;

export interface StallWatch {
  reset(): void;
  dump(): StallDump;
  stop(): void;
}

export function watchStalls(now: () => number = () => performance.timeOrigin + performance.now()) {
  let gc: StallDump["gc"] = [];
  let late: Pause[] = [];
  let resetAt = { wallMs: now(), monotonicMs: Number(process.hrtime.bigint()) / 1e6 };
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
      gc.push({
        at: performance.timeOrigin + entry.startTime,
        ms: entry.duration,
        major: kind === GC_MAJOR,
      });
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  let due = now() + TICK_MS;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const at = now();
    if (at - due > LATE_MS) late.push({ at: due, ms: at - due });
    due = at + TICK_MS;
    timer = setTimeout(tick, TICK_MS);
    timer.unref();
  };
  timer = setTimeout(tick, TICK_MS);
  timer.unref();
  return {
    reset() {
      gc = [];
      late = [];
      histogram.reset();
      resetAt = { wallMs: now(), monotonicMs: Number(process.hrtime.bigint()) / 1e6 };
    },
    dump(): StallDump {
      return {
        gc: gc.slice(),
        late: late.slice(),
        loopDelay: { p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 },
        resetAt,
      };
    },
    stop() {
      clearTimeout(timer);
      observer.disconnect();
      histogram.disable();
    },
  } satisfies StallWatch;
}

/** Ms of `pauses` that overlap [from, to]. */
export function overlapMs(pauses: readonly Pause[], from: number, to: number): number {
  let sum = 0;
  for (const pause of pauses) {
    const start = Math.max(from, pause.at);
    const end = Math.min(to, pause.at + pause.ms);
    if (end > start) sum += end - start;
  }
  return sum;
}

/** One delivery: when its op was created (Postgres now()) and when a subscriber received it. */
export interface Delivery {
  /** The bench op's sequence number (its value.seq). */
  seq: number;
  createdAt: number;
  receivedAt: number;
}

/** Named sources of pauses, e.g. "server GC", "bench event loop late". */
export type PauseSources = Record<string, readonly Pause[]>;

export interface Attribution {
  /** Deliveries looked at (the slowest ones). */
  count: number;
  /** Their latency: from the fastest to the slowest of them, ms. */
  fromMs: number;
  toMs: number;
  /**
   * By source: how many of them it overlapped by at least half their latency, and its mean
   * overlap with them in ms.
   */
  bySource: Array<{ source: string; covered: number; meanOverlapMs: number }>;
  /** Of them, how many no source covered by half their latency. */
  unexplained: number;
}

/** A delivery's latency, created -> received (deliveries without a finite one are left out). */
const latency = (d: Delivery) => d.receivedAt - d.createdAt;

/** The deliveries with a latency, slowest first. */
function slowestFirst(deliveries: readonly Delivery[]): Delivery[] {
  return deliveries
    .filter((d) => Number.isFinite(latency(d)))
    .sort((a, b) => latency(b) - latency(a));
}

/**
 * Matches the slowest `share` (0..1) of the deliveries with the pauses that fell inside each
 * one's span (created -> received): which process stood still while they waited. A pause
 * covers a delivery when it overlaps at least half its latency; sources are counted apart
 * (a delivery can be covered by a server pause and a bench pause at once).
 */
export function attributeSlowest(
  deliveries: readonly Delivery[],
  share: number,
  sources: PauseSources,
): Attribution {
  const sorted = slowestFirst(deliveries);
  const slow = sorted.slice(0, Math.max(1, Math.ceil(sorted.length * share)));
  if (sorted.length === 0) {
    return { count: 0, fromMs: Number.NaN, toMs: Number.NaN, bySource: [], unexplained: 0 };
  }
  const explained = new Set<Delivery>();
  const bySource = Object.entries(sources).map(([source, pauses]) => {
    let covered = 0;
    let total = 0;
    for (const d of slow) {
      const overlap = overlapMs(pauses, d.createdAt, d.receivedAt);
      total += overlap;
      if (overlap >= 0.5 * latency(d)) {
        covered++;
        explained.add(d);
      }
    }
    return { source, covered, meanOverlapMs: total / slow.length };
  });
  return {
    count: slow.length,
    fromMs: latency(slow[slow.length - 1] as Delivery),
    toMs: latency(slow[0] as Delivery),
    bySource,
    unexplained: slow.length - explained.size,
  };
}

/** Pauses summed: count, total and longest, for a note. */
export function describePauses(pauses: readonly Pause[]): string {
  if (pauses.length === 0) return "none";
  let total = 0;
  let longest = 0;
  for (const pause of pauses) {
    total += pause.ms;
    longest = Math.max(longest, pause.ms);
  }
  return `${pauses.length}, ${total.toFixed(0)} ms in all, longest ${longest.toFixed(1)} ms`;
}

/**
 * A delivery's wait in two stretches, split where the server published its op (after the
 * push's commit): created -> published (the push statement and its commit in Postgres, and
 * the server's work around them) and published -> received (the fan-out's send and the
 * subscriber's receipt). For the slowest `share`, how many spent longer in each, and the
 * median of each stretch among them.
 */
export interface StretchSplit {
  count: number;
  /** Of the slowest, those whose op was published (stamp seen). */
  stamped: number;
  inCommit: number;
  inDelivery: number;
  commitMedianMs: number;
  deliveryMedianMs: number;
}

export function splitAtPublish(
  deliveries: readonly Delivery[],
  published: ReadonlyMap<number, number>,
  share: number,
): StretchSplit {
  const sorted = slowestFirst(deliveries);
  const slow = sorted.slice(0, Math.ceil(sorted.length * share));
  const commit: number[] = [];
  const delivery: number[] = [];
  let inCommit = 0;
  let inDelivery = 0;
  for (const d of slow) {
    const at = published.get(d.seq);
    if (at === undefined) continue;
    const first = at - d.createdAt;
    const second = d.receivedAt - at;
    commit.push(first);
    delivery.push(second);
    if (first >= second) inCommit++;
    else inDelivery++;
  }
  const median = (values: number[]) => {
    if (values.length === 0) return Number.NaN;
    const sorted = values.slice().sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) / 2)] as number;
  };
  return {
    count: slow.length,
    stamped: commit.length,
    inCommit,
    inDelivery,
    commitMedianMs: median(commit),
    deliveryMedianMs: median(delivery),
  };
}
