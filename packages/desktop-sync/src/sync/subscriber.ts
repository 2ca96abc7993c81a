import type { SyncOp } from "@chorus/protocol";
import { KeyNeededError, type OpCipher } from "../engine/encryption.js";
import type { LibraryState } from "../library-state.js";
import { withoutWaitingForDisk } from "../store/sqlite.js";
import type { BackoffPolicy } from "./backoff.js";
import { retryDelay, verdictOf } from "./call-server.js";
import type { SyncClient } from "./client.js";
import { classifyFailure, type SyncFailure } from "./failure.js";

/**
 * Applies ops received from the server (a subscription's delivery, or a page pulled while the
 * socket cannot be opened) in one transaction together with the cursor, with capture
 * suppressed (LibraryState.applyRemote never queues); ops at or below the cursor are skipped
 * as already seen, so the two sources may overlap. Answers the ops applied. Throws
 * KeyNeededError, with nothing applied, when a value needs a key this device lacks.
 *
 * The commit does not wait for the disk (withoutWaitingForDisk): the server holds these ops,
 * and a power cut that rolled them back would only move the cursor back to fetch them again.
 * What an ACK reports is made durable first (LibraryState.durableCursor).
 */
export function applyRemoteBatch(
  library: LibraryState,
  ops: SyncOp[],
  cipher: OpCipher | undefined,
): SyncOp[] {
  return withoutWaitingForDisk(library.db, () =>
    library.db
      .transaction(() =>
        library.batch(() =>
          ops.flatMap((op) => {
            const folded = library.applyRemote(op, cipher);
            return folded ? [folded] : [];
          }),
        ),
      )
      .immediate(),
  );
}

/** How long stopping waits for its last ACK. */
const STOP_ACK_MS = 5_000;

export type SubscriberState = "connecting" | "connected" | "offline" | "update_required";

export interface SubscriberDeps {
  client: SyncClient;
  library: LibraryState;
  /** Ops applied to the library (not the ones skipped as already seen). */
  onApplied(ops: SyncOp[]): void;
  onResyncRequired(compactedUpTo: number): void;
  onState(state: SubscriberState): void;
  onFailure(failure: SyncFailure): void;
  tokenRejected(): void;
  /** Quiet time before an ACK is sent (default 500 ms). */
  ackDebounceMs?: number;
  /** Backoff for re-subscribing after an error (default 500 ms .. 15 s). */
  backoff?: BackoffPolicy;
  /** Most ops applied in one transaction. */
  maxApplyBatch?: number;
  /** Opens sealed values before they are folded (an encrypted account). */
  cipher?: OpCipher;
  /**
   * A value needs a key this device does not hold: nothing of the batch was applied, the
   * subscription is stopped, and the engine reads the account's key state again.
   */
  onKeyNeeded?(error: KeyNeededError): void;
}

/**
 * Follows the user's op log over the WebSocket from the local cursor: `lastEventId` is the
 * cursor when (re)subscribing, and the client carries the last tracked id across reconnects.
 * Ops are buffered for one turn of the event loop and applied in one transaction together
 * with the cursor, with capture suppressed (LibraryState.applyRemote never queues). After each
 * apply an ACK of the cursor is sent, debounced.
 */
export class Subscriber {
  private subscription: { unsubscribe(): void } | null = null;
  private buffer: SyncOp[] = [];
  private flushScheduled = false;
  private ackTimer: NodeJS.Timeout | null = null;
  private ackedUpTo = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private stopped = true;
  private readonly backoff: BackoffPolicy;

  constructor(private readonly deps: SubscriberDeps) {
    this.backoff = deps.backoff ?? { baseMs: 500, maxMs: 15_000 };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.subscribe();
  }

  /** Unsubscribes, applies what was received, and sends the last ACK. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.flush();
    // The last ACK is a courtesy (the next session ACKs again): it may not hold up closing.
    await Promise.race([
      this.sendAck(),
      new Promise<void>((done) => setTimeout(done, STOP_ACK_MS).unref()),
    ]);
  }

  private subscribe(): void {
    const { library } = this.deps;
    const cursor = library.cursor();
    this.deps.onState("connecting");
    this.subscription = this.deps.client.trpc.sync.subscribe.subscribe(
      { lastEventId: cursor },
      {
        onStarted: () => {
          this.failures = 0;
          this.deps.onState("connected");
          // ACK where we stand at once (after a rebuild, or a restart): the server then sees
          // this device current and seen, without waiting for the next remote op.
          this.scheduleAck();
        },
        onData: (event) => {
          this.buffer.push(event.data);
          if (this.buffer.length >= (this.deps.maxApplyBatch ?? 500)) this.flush();
          else if (!this.flushScheduled) {
            this.flushScheduled = true;
            setImmediate(() => this.flush());
          }
        },
        onConnectionStateChange: (state) => {
          if (this.stopped) return;
          if (state.state === "connecting" && state.error) this.deps.onState("offline");
        },
        onError: (error) => this.failed(classifyFailure(error)),
      },
    );
  }

  private failed(failure: SyncFailure): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.flush();
    if (this.stopped) return;
    const verdict = verdictOf(failure);
    if (
      verdict === "resync" &&
      failure.kind === "sync" &&
      failure.error.type === "resync_required"
    ) {
      this.stopped = true;
      this.deps.onResyncRequired(failure.error.compactedUpTo);
      return;
    }
    if (verdict === "update_required") {
      // Only an update changes this answer: stop instead of retrying forever.
      this.stopped = true;
      this.deps.onFailure(failure);
      this.deps.onState("update_required");
      return;
    }
    // A 401: the token is dropped, and the reconnect after the backoff refreshes it.
    if (failure.kind === "unauthorized") this.deps.tokenRejected();
    this.deps.onFailure(failure);
    this.deps.onState("offline");
    this.failures += 1;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = null;
        if (!this.stopped) this.subscribe();
      },
      retryDelay(failure, this.failures, this.backoff) + 50,
    );
    this.retryTimer.unref();
  }

  /** Applies the buffered ops and the cursor in one transaction. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.buffer.length === 0) return;
    const ops = this.buffer;
    this.buffer = [];
    let applied: SyncOp[];
    try {
      applied = applyRemoteBatch(this.deps.library, ops, this.deps.cipher);
    } catch (error) {
      if (error instanceof KeyNeededError) {
        // Nothing was applied and the cursor did not move: wait for the key, then start over.
        this.stopped = true;
        this.subscription?.unsubscribe();
        this.subscription = null;
        this.buffer = [];
        this.deps.onKeyNeeded?.(error);
        return;
      }
      // Nothing was applied and the cursor did not move: start over from the cursor.
      this.failed({ kind: "server", message: `could not apply remote ops: ${String(error)}` });
      return;
    }
    if (applied.length > 0) this.deps.onApplied(applied);
    this.scheduleAck();
  }

  private scheduleAck(delayMs = this.deps.ackDebounceMs ?? 500): void {
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      void this.sendAck();
    }, delayMs);
    this.ackTimer.unref();
  }

  /** ACKs that failed in a row (the next try backs off further). */
  private ackFailures = 0;

  private async sendAck(): Promise<void> {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    const cursor = this.deps.library.cursor();
    if (cursor <= this.ackedUpTo) return;
    try {
      // The server may compact what a device ACKed: never report a cursor a power cut could
      // still take back.
      this.deps.library.durableCursor();
      await this.deps.client.trpc.sync.ack.mutate({ lastSeenId: cursor });
      this.ackedUpTo = Math.max(this.ackedUpTo, cursor);
      this.ackFailures = 0;
    } catch (error) {
      const failure = classifyFailure(error);
      if (failure.kind === "unauthorized") this.deps.tokenRejected();
      // Tried again after a backoff, not only with the next op: a device that receives
      // nothing more would stay behind on the server (holding compaction back, or looking
      // stale) for as long as the account is quiet. The server never moves a cursor back.
      // A refusal that will not change (revoked, ACK past the log's head) is not repeated.
      if (!this.stopped && verdictOf(failure) === "retry") {
        this.ackFailures += 1;
        this.scheduleAck(retryDelay(failure, this.ackFailures, this.backoff));
      }
    }
  }
}
