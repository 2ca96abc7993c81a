import { MAX_OPS_PER_BATCH, type OpInput, type PushResult } from "@chorus/protocol";
import type { LibraryState } from "../library-state.js";
import { markAttempt, nextBatch, removeAcknowledged, restampPending, toOpInput } from "../queue.js";
import { type BackoffPolicy, DEFAULT_BACKOFF, fullJitterDelay } from "./backoff.js";
import { classifyFailure, type SyncFailure } from "./failure.js";

export interface DrainDeps {
  library: LibraryState;
  /** One push call; rejects with the client's error. */
  push(ops: OpInput[]): Promise<PushResult>;
  /** The server refused the token: refresh before the next attempt. */
  tokenRejected(): void;
  onFailure(failure: SyncFailure): void;
  onPushed?(count: number): void;
  backoff?: BackoffPolicy;
  /** The periodic tick that retries even when nothing woke the drain (default 30 s). */
  tickMs?: number;
  random?: () => number;
  now?: () => number;
  maxOpsPerBatch?: number;
}

export type DrainOutcome =
  | { status: "drained"; pushed: number }
  | { status: "failed"; pushed: number; failure: SyncFailure };

/** At most this many lamport_regression round trips in one drain before backing off. */
const MAX_REGRESSIONS_PER_DRAIN = 3;
/** Bound on batches per drain, so one drain always ends (new ops wake another). */
const MAX_BATCHES_PER_DRAIN = 1_000;

/**
 * Uploads the pending queue: a periodic tick plus a wake after each local commit; one drain
 * at a time; batches of at most MAX_OPS_PER_BATCH, oldest first; an op leaves the queue only
 * once a push result names it. A failed batch is marked (attempt_count, last_attempt_at,
 * last_error) and the drain backs off exponentially with full jitter. On lamport_regression
 * the clock observes the server's stored maximum, the queue is re-stamped in FIFO order and
 * the push is retried.
 */
export class Drain {
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;
  private readonly now: () => number;
  private running: Promise<DrainOutcome> | null = null;
  private again = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private stopped = true;
  private maxOps: number;

  constructor(private readonly deps: DrainDeps) {
    this.backoff = deps.backoff ?? DEFAULT_BACKOFF;
    this.random = deps.random ?? Math.random;
    this.now = deps.now ?? Date.now;
    this.maxOps = Math.min(deps.maxOpsPerBatch ?? MAX_OPS_PER_BATCH, MAX_OPS_PER_BATCH);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tickTimer = setInterval(() => this.wake(), this.deps.tickMs ?? 30_000);
    this.tickTimer.unref();
    this.wake();
  }

  /** Stops timers and waits for a drain in flight to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.tickTimer = this.retryTimer = null;
    await this.running?.catch(() => undefined);
  }

  /** After a local commit or a tick: drain now, unless a backoff is pending. */
  wake(): void {
    if (this.stopped || this.retryTimer) return;
    void this.kick();
  }

  /** Drain now, cancelling any backoff (the user asked, or the mode just became Hybrid). */
  pushNow(): Promise<DrainOutcome> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.failures = 0;
    return this.kick();
  }

  /** True while a retry is scheduled after a failure. */
  get backingOff(): boolean {
    return this.retryTimer !== null;
  }

  private kick(): Promise<DrainOutcome> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = async (): Promise<DrainOutcome> => {
      let pushed = 0;
      let outcome: DrainOutcome;
      do {
        this.again = false;
        outcome = await this.drainBatches();
        pushed += outcome.pushed;
      } while (this.again && outcome.status === "drained" && !this.stopped);
      return { ...outcome, pushed };
    };
    this.running = run().finally(() => {
      this.running = null;
    });
    void this.running.then((outcome) => this.schedule(outcome));
    return this.running;
  }

  private schedule(outcome: DrainOutcome): void {
    if (outcome.status === "drained") {
      this.failures = 0;
      return;
    }
    this.failures += 1;
    if (this.stopped) return;
    const { failure } = outcome;
    const delay =
      failure.kind === "sync" && failure.error.type === "rate_limited"
        ? failure.error.retryAfterMs + fullJitterDelay(1, this.backoff, this.random)
        : fullJitterDelay(this.failures, this.backoff, this.random);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) void this.kick();
    }, delay);
    this.retryTimer.unref();
  }

  private async drainBatches(): Promise<DrainOutcome> {
    const { library } = this.deps;
    const { db } = library;
    let pushed = 0;
    let regressions = 0;
    let reauthorized = false;
    for (let round = 0; round < MAX_BATCHES_PER_DRAIN; round++) {
      const batch = nextBatch(db, this.maxOps);
      if (batch.length === 0) return { status: "drained", pushed };
      let result: PushResult;
      try {
        result = await this.deps.push(batch.map(toOpInput));
      } catch (error) {
        const failure = classifyFailure(error);
        if (
          failure.kind === "sync" &&
          failure.error.type === "lamport_regression" &&
          regressions < MAX_REGRESSIONS_PER_DRAIN
        ) {
          regressions += 1;
          const storedMax = failure.error.storedMax;
          db.transaction(() => {
            library.clock.observe(storedMax);
            for (const op of restampPending(db, library.clock)) library.foldOwn(op);
          }).immediate();
          continue;
        }
        if (
          failure.kind === "sync" &&
          failure.error.type === "payload_too_large" &&
          this.maxOps > 1
        ) {
          this.maxOps = Math.max(1, Math.floor(batch.length / 2));
          continue;
        }
        if (failure.kind === "unauthorized" && !reauthorized) {
          reauthorized = true;
          this.deps.tokenRejected();
          continue;
        }
        db.transaction(() =>
          markAttempt(
            db,
            batch.map((op) => op.id),
            failure.message,
            this.now(),
          ),
        )();
        this.deps.onFailure(failure);
        return { status: "failed", pushed, failure };
      }
      const removed = db.transaction(() =>
        removeAcknowledged(
          db,
          result.results.map((r) => r.operationId),
        ),
      )();
      pushed += removed;
      this.deps.onPushed?.(removed);
    }
    return { status: "drained", pushed };
  }
}
