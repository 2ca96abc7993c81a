import { isCryptoError } from "@chorus/crypto";
import {
  jsonByteLength,
  MAX_BATCH_BYTES,
  MAX_OPS_PER_BATCH,
  type OpInput,
  type PushResult,
  refusedOpIndexes,
} from "@chorus/protocol";
import type { LibraryState } from "../library-state.js";
import {
  markAttempt,
  nextBatch,
  type PendingOp,
  quarantine,
  removeAcknowledged,
  restampPending,
  toOpInput,
} from "../queue.js";
import { withoutWaitingForDisk } from "../store/sqlite.js";
import { type BackoffPolicy, DEFAULT_BACKOFF } from "./backoff.js";
import { callBudget, callServer, keyChanged, retryDelay, verdictOf } from "./call-server.js";
import type { SyncFailure } from "./failure.js";

export interface DrainDeps {
  library: LibraryState;
  /** One push call; rejects with the client's error. */
  push(ops: OpInput[]): Promise<PushResult>;
  /**
   * The op as it leaves the device (default: as queued). An encrypted account seals every
   * value here, after the op has its final stamp; a CryptoError (a value too large once
   * sealed) sets the op aside like a refusal, any other error fails the drain (no key yet).
   */
  seal?(op: OpInput): OpInput;
  /** The server refused the token: refresh before the next attempt. */
  tokenRejected(): void;
  onFailure(failure: SyncFailure): void;
  onPushed?(count: number): void;
  /**
   * The server refused a batch because the account's key changed (keyChanged): the ops stay
   * queued, untouched; the caller reads the key state again before anything else is pushed.
   */
  onKeyChanged?(failure: SyncFailure): void;
  /** Ops the server refused for good were set aside (quarantined) with their reasons. */
  onQuarantined?(ops: ReadonlyArray<{ op: PendingOp; reason: string }>): void;
  backoff?: BackoffPolicy;
  /** The periodic tick that retries even when nothing woke the drain (default 30 s). */
  tickMs?: number;
  random?: () => number;
  now?: () => number;
  maxOpsPerBatch?: number;
  /** Bytes per batch (default MAX_BATCH_BYTES): what this build believes the server takes. */
  maxBatchBytes?: number;
}

export type DrainOutcome =
  | { status: "drained"; pushed: number }
  | { status: "failed"; pushed: number; failure: SyncFailure };

/** Queued ops whose value cannot be sealed (too large once sealed): set aside, never sent. */
class UnsealableOps extends Error {
  constructor(readonly ops: Array<{ id: number; op: PendingOp; reason: string }>) {
    super(`${ops.length} op(s) cannot be sealed`);
  }
}

/** At most this many lamport_regression round trips in one drain before backing off. */
const MAX_REGRESSIONS_PER_DRAIN = 3;
/** Bound on batches per drain, so one drain always ends (new ops wake another). */
const MAX_BATCHES_PER_DRAIN = 1_000;

/** What to do with a batch the server refused, beyond marking it and backing off. */
type Refusal =
  /** The batch is too large for the server: send fewer ops. */
  | { kind: "split" }
  /** These ops of the batch break a rule for good: set them aside, send the rest. */
  | { kind: "quarantine"; ops: Array<{ op: PendingOp; reason: string }> }
  /** Some op of the batch is refused for good, the answer does not say which: one at a time. */
  | { kind: "isolate" }
  | null;

/**
 * What to do with a batch the policy (call-server.ts) judged refused for good. A typed `payload_too_large` (or an untyped 413 of an older
 * server) splits the batch, down to one op, which is then set aside; a typed `invalid_input`
 * names the refused ops by index; an untyped BAD_REQUEST / UNPROCESSABLE_CONTENT (an older
 * server) is isolated op by op. Everything else (offline, 5xx, rate limits, 401, 403) is
 * retried with backoff: those are not the op's fault.
 */
function refusalOf(failure: SyncFailure, batch: readonly PendingOp[]): Refusal {
  const single = batch.length === 1 ? batch[0] : undefined;
  const alone = (reason: string): Refusal =>
    single ? { kind: "quarantine", ops: [{ op: single, reason }] } : { kind: "isolate" };
  if (failure.kind === "sync") {
    const { error } = failure;
    if (error.type === "payload_too_large") {
      return single ? alone(failure.message) : { kind: "split" };
    }
    if (error.type === "invalid_input") {
      const ops = refusedOpIndexes(error).flatMap((index) => {
        const op = batch[index];
        if (!op) return [];
        const reasons = error.issues
          .filter((issue) => issue.path[0] === "ops" && issue.path[1] === index)
          .map((issue) => `${issue.path.slice(2).join(".") || "op"}: ${issue.message}`);
        return [{ op, reason: reasons.join("; ") }];
      });
      return ops.length > 0 ? { kind: "quarantine", ops } : alone(failure.message);
    }
    return null;
  }
  if (failure.kind === "refused") {
    if (failure.code === "PAYLOAD_TOO_LARGE") {
      return single ? alone(failure.message) : { kind: "split" };
    }
    if (failure.code === "BAD_REQUEST" || failure.code === "UNPROCESSABLE_CONTENT") {
      return alone(failure.message);
    }
  }
  return null;
}

/**
 * Uploads the pending queue: a periodic tick plus a wake after each local commit; one drain
 * at a time; batches of at most MAX_OPS_PER_BATCH, oldest first; an op leaves the queue only
 * once a push result names it. A failed batch is marked (attempt_count, last_attempt_at,
 * last_error) and the drain backs off exponentially with full jitter. On lamport_regression
 * the clock observes the server's stored maximum, the queue is re-stamped in FIFO order and
 * the push is retried. A batch too large for the server is halved; an op the server refuses
 * for good is quarantined with its reason and the rest of the queue flows on (an op that
 * cannot be stored must never hold every later edit back); `upgrade_required` stops the
 * retries until the user asks again (pushNow) or the app is updated.
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
  private halted = false;
  private maxOps: number;
  private readonly maxBytes: number;

  constructor(private readonly deps: DrainDeps) {
    this.backoff = deps.backoff ?? DEFAULT_BACKOFF;
    this.random = deps.random ?? Math.random;
    this.now = deps.now ?? Date.now;
    this.maxOps = Math.min(deps.maxOpsPerBatch ?? MAX_OPS_PER_BATCH, MAX_OPS_PER_BATCH);
    this.maxBytes = deps.maxBatchBytes ?? MAX_BATCH_BYTES;
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

  /**
   * After a local commit or a tick: drain now, unless a backoff is pending or the server said
   * this build's protocol is not served (nothing but an update changes that answer).
   */
  wake(): void {
    if (this.stopped || this.retryTimer || this.halted) return;
    void this.kick();
  }

  /** Drain now, cancelling any backoff (the user asked, or the mode just became Hybrid). */
  pushNow(): Promise<DrainOutcome> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.failures = 0;
    this.halted = false;
    return this.kick();
  }

  /** The server answered upgrade_required to another call of this loop: wait like for a push's. */
  haltForUpdate(): void {
    this.halted = true;
  }

  /** True once the server answered upgrade_required: no retries until pushNow or a restart. */
  get updateRequired(): boolean {
    return this.halted;
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
    if (verdictOf(failure) === "update_required") {
      this.halted = true;
      return;
    }
    const delay = retryDelay(failure, this.failures, this.backoff, this.random);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) void this.kick();
    }, delay);
    this.retryTimer.unref();
  }

  /**
   * The batch as it is pushed: each op through `seal`, and trimmed from the end until the
   * sealed ops fit the batch's bytes (a sealed value is about 4/3 of its plaintext). Ops that
   * cannot be sealed are thrown as UnsealableOps, to be set aside.
   */
  private sealBatch(batch: PendingOp[]): { batch: PendingOp[]; sealed: OpInput[] } {
    const seal = this.deps.seal;
    if (!seal) return { batch, sealed: batch.map(toOpInput) };
    const sealed: OpInput[] = [];
    const unsealable: Array<{ id: number; op: PendingOp; reason: string }> = [];
    for (const op of batch) {
      try {
        sealed.push(seal(toOpInput(op)));
      } catch (error) {
        if (!isCryptoError(error)) throw error;
        unsealable.push({ id: op.id, op, reason: error.message });
      }
    }
    if (unsealable.length > 0) throw new UnsealableOps(unsealable);
    let bytes = 64;
    let fit = 0;
    for (const op of sealed) {
      bytes += jsonByteLength(op) + 1;
      if (fit > 0 && bytes > this.maxBytes) break;
      fit += 1;
    }
    return { batch: batch.slice(0, fit), sealed: sealed.slice(0, fit) };
  }

  /** A batch that could not go up: each op's attempt is counted, the failure reported. */
  private failBatch(
    batch: ReadonlyArray<{ id: number }>,
    failure: SyncFailure,
    pushed: number,
  ): DrainOutcome {
    const { db } = this.deps.library;
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

  private async drainBatches(): Promise<DrainOutcome> {
    const { library } = this.deps;
    const { db } = library;
    let pushed = 0;
    // Shared by every batch of this drain: a few re-stamps, one token refresh.
    const budget = callBudget({ restamps: MAX_REGRESSIONS_PER_DRAIN, refreshes: 1 });
    // After a refusal that names no op: one op per push for the rest of this drain.
    let isolating = false;
    for (let round = 0; round < MAX_BATCHES_PER_DRAIN; round++) {
      let batch = nextBatch(db, isolating ? 1 : this.maxOps, this.maxBytes);
      if (batch.length === 0) return { status: "drained", pushed };
      let sealed: OpInput[];
      try {
        ({ batch, sealed } = this.sealBatch(batch));
      } catch (error) {
        if (error instanceof UnsealableOps) {
          const ops = error.ops.map(({ id, op, reason }) => ({
            id,
            op,
            reason: `cannot be sealed: ${reason}`,
          }));
          db.transaction(() => quarantine(db, ops, this.now()))();
          this.deps.onQuarantined?.(ops);
          continue;
        }
        const failure: SyncFailure = {
          kind: "refused",
          code: (error as { code?: string }).code ?? "seal_failed",
          message: error instanceof Error ? error.message : String(error),
        };
        return this.failBatch(batch, failure, pushed);
      }
      // (A re-stamp reads the batch again; another process may have uploaded it meanwhile.)
      const send = (): Promise<PushResult> =>
        sealed.length === 0 ? Promise.resolve({ results: [], maxId: 0 }) : this.deps.push(sealed);
      const outcome = await callServer(
        send,
        {
          tokenRejected: () => this.deps.tokenRejected(),
          restamp: (storedMax) => {
            db.transaction(() => {
              library.clock.observe(storedMax);
              for (const op of restampPending(db, library.clock)) library.foldOwn(op);
            }).immediate();
            // The re-stamped queue, read again: new timestamps and operation ids, sealed anew
            // (the seal binds both). What cannot be sealed now is met by the next round.
            batch = nextBatch(db, isolating ? 1 : this.maxOps, this.maxBytes);
            try {
              ({ batch, sealed } = this.sealBatch(batch));
            } catch {
              batch = [];
              sealed = [];
            }
          },
        },
        budget,
      );
      if (!outcome.ok) {
        const { failure } = outcome;
        if (keyChanged(failure)) {
          // Not the ops' fault: never set aside. The caller stops this loop and reads the key.
          const failed = this.failBatch(batch, failure, pushed);
          this.deps.onKeyChanged?.(failure);
          return failed;
        }
        const refusal = outcome.verdict === "refused" ? refusalOf(failure, batch) : null;
        if (refusal?.kind === "split") {
          this.maxOps = Math.max(1, Math.floor(batch.length / 2));
          continue;
        }
        if (refusal?.kind === "isolate") {
          isolating = true;
          continue;
        }
        if (refusal?.kind === "quarantine") {
          const { ops } = refusal;
          db.transaction(() =>
            quarantine(
              db,
              ops.map(({ op, reason }) => ({ id: op.id, reason })),
              this.now(),
            ),
          )();
          this.deps.onQuarantined?.(ops);
          continue;
        }
        return this.failBatch(batch, failure, pushed);
      }
      // Not waiting for the disk (ADR 0021): a power cut that rolled the removal back would
      // push these ops again, and the server answers a pushed operation id with what it stored.
      const removed = withoutWaitingForDisk(db, () =>
        db.transaction(() =>
          removeAcknowledged(
            db,
            outcome.value.results.map((r) => r.operationId),
          ),
        )(),
      );
      pushed += removed;
      this.deps.onPushed?.(removed);
    }
    return { status: "drained", pushed };
  }
}
