import type { OpInput, PushResult, SyncOp } from "@chorus/protocol";
import type { ConnectionState, ResyncProgress } from "../contract.js";
import type { LibraryState } from "../library-state.js";
import type { PendingOp } from "../queue.js";
import { type BackoffPolicy, fullJitterDelay } from "./backoff.js";
import { createSyncClient, type SyncClient } from "./client.js";
import { Drain, type DrainOutcome } from "./drain.js";
import { classifyFailure, type SyncFailure } from "./failure.js";
import { rebuildFromServer } from "./resync.js";
import type { SyncSession } from "./session.js";
import { Subscriber } from "./subscriber.js";

export interface SyncTiming {
  /** Periodic drain tick (default 30 s). */
  tickMs?: number;
  /** Drain backoff after a failed push (default 1 s doubling to 60 s, full jitter). */
  backoff?: BackoffPolicy;
  /** Re-subscribe and re-load backoff (default 500 ms doubling to 15 s, full jitter). */
  reconnectBackoff?: BackoffPolicy;
  ackDebounceMs?: number;
  /** Longest wait for one push or pull (default 20 s). */
  requestTimeoutMs?: number;
  /** Ops per page of a full pull (default MAX_PULL_LIMIT). */
  pullPageSize?: number;
  keepAliveMs?: number;
}

export interface SyncLoopDeps {
  session: SyncSession;
  library: LibraryState;
  /** Hybrid drains the durable queue; server-connected mode pushes each edit itself. */
  withDrain: boolean;
  /** Server-connected mode starts from a full pull into its in-memory library. */
  loadFirst: boolean;
  timing: SyncTiming;
  /** The protocol version stated to the server (default PROTOCOL_VERSION). */
  protocolVersion?: number;
  onRemoteOps(ops: SyncOp[]): void;
  onState(state: ConnectionState): void;
  onFailure(failure: SyncFailure): void;
  onPushed(count: number): void;
  onQuarantined(ops: ReadonlyArray<{ op: PendingOp; reason: string }>): void;
  onResyncProgress(progress: ResyncProgress | null): void;
  log(message: string, context?: Record<string, unknown>): void;
}

/**
 * The network side of one library while it is bound and not Local: the typed client, the
 * drain, the subscriber, and resync when the server says history this device needs is gone.
 */
export class SyncLoop {
  readonly client: SyncClient;
  readonly drain: Drain | null;
  private readonly subscriber: Subscriber;
  private stopped = false;
  private loaded: boolean;
  private rebuildTimer: NodeJS.Timeout | null = null;
  private rebuildFailures = 0;
  private rebuilding: Promise<void> | null = null;
  /** Callers of whenLoaded waiting for the current load attempt to end. */
  private waiters: Array<() => void> = [];

  constructor(private readonly deps: SyncLoopDeps) {
    const { session, library, timing } = deps;
    this.loaded = !deps.loadFirst;
    this.client = createSyncClient(session, {
      ...(deps.protocolVersion !== undefined ? { protocolVersion: deps.protocolVersion } : {}),
      ...(timing.keepAliveMs ? { keepAliveMs: timing.keepAliveMs } : {}),
      ...(timing.reconnectBackoff
        ? {
            retryDelayMs: (n: number) =>
              fullJitterDelay(n + 1, timing.reconnectBackoff as BackoffPolicy) + 25,
          }
        : {}),
    });
    this.drain = deps.withDrain
      ? new Drain({
          library,
          push: (ops) => this.push(ops),
          tokenRejected: () => session.tokenRejected(),
          onFailure: (failure) => deps.onFailure(failure),
          onPushed: (count) => deps.onPushed(count),
          onQuarantined: (ops) => deps.onQuarantined(ops),
          ...(timing.backoff ? { backoff: timing.backoff } : {}),
          ...(timing.tickMs ? { tickMs: timing.tickMs } : {}),
        })
      : null;
    this.subscriber = new Subscriber({
      client: this.client,
      library,
      onApplied: (ops) => deps.onRemoteOps(ops),
      onResyncRequired: (compactedUpTo) => {
        deps.log("resync required", { compactedUpTo, cursor: library.cursor() });
        this.scheduleRebuild(0);
      },
      onState: (state) => deps.onState(state),
      onFailure: (failure) => deps.onFailure(failure),
      tokenRejected: () => session.tokenRejected(),
      ...(timing.ackDebounceMs !== undefined ? { ackDebounceMs: timing.ackDebounceMs } : {}),
      ...(timing.reconnectBackoff ? { backoff: timing.reconnectBackoff } : {}),
    });
  }

  /** True once the library holds the server's state (always, except a loading server mode). */
  get ready(): boolean {
    return this.loaded;
  }

  start(): void {
    this.drain?.start();
    if (this.loaded) this.subscriber.start();
    else this.scheduleRebuild(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.rebuildTimer) clearTimeout(this.rebuildTimer);
    for (const resolve of this.waiters.splice(0)) resolve();
    await Promise.all([this.drain?.stop(), this.subscriber.stop(), this.rebuilding]);
    await this.client.close();
  }

  push(ops: OpInput[]): Promise<PushResult> {
    return this.client.trpc.sync.push.mutate(
      { ops },
      { signal: AbortSignal.timeout(this.deps.timing.requestTimeoutMs ?? 20_000) },
    );
  }

  pushNow(): Promise<DrainOutcome> | null {
    return this.drain?.pushNow() ?? null;
  }

  /**
   * Server-connected mode: resolves once the library holds the server's state, or false when
   * the attempt to load it failed. A retry waiting out its backoff is started now: the user
   * is asking, so they get an answer from a fresh attempt rather than a stale failure.
   */
  async whenLoaded(): Promise<boolean> {
    if (this.loaded || this.stopped) return this.loaded;
    if (this.rebuildTimer) {
      clearTimeout(this.rebuildTimer);
      this.rebuildTimer = null;
      this.scheduleRebuild(0);
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.loaded;
  }

  private scheduleRebuild(delayMs: number): void {
    if (this.stopped || this.rebuildTimer || this.rebuilding) return;
    this.rebuildTimer = setTimeout(() => {
      this.rebuildTimer = null;
      this.rebuilding = this.rebuild().then((ok) => {
        this.rebuilding = null;
        for (const resolve of this.waiters.splice(0)) resolve();
        if (!ok && !this.updateRequired) {
          this.rebuildFailures += 1;
          const policy = this.deps.timing.reconnectBackoff ?? { baseMs: 500, maxMs: 15_000 };
          this.scheduleRebuild(fullJitterDelay(this.rebuildFailures, policy) + 50);
        }
      });
    }, delayMs);
    this.rebuildTimer.unref();
  }

  private updateRequired = false;

  /** One full pull and rebuild; false when it failed (the caller schedules another). */
  private async rebuild(): Promise<boolean> {
    const { deps } = this;
    deps.onState("resyncing");
    await this.subscriber.stop();
    const started = Date.now();
    try {
      const result = await rebuildFromServer({
        library: deps.library,
        pull: (input) =>
          this.client.trpc.sync.pull.query(input, {
            signal: AbortSignal.timeout(deps.timing.requestTimeoutMs ?? 20_000),
          }),
        onProgress: (progress) => deps.onResyncProgress(progress),
        ...(deps.timing.pullPageSize ? { pageSize: deps.timing.pullPageSize } : {}),
      });
      deps.log("rebuilt from a full pull", { ...result, ms: Date.now() - started });
      this.loaded = true;
      this.rebuildFailures = 0;
      deps.onResyncProgress(null);
      deps.onRemoteOps([]);
      if (!this.stopped) this.subscriber.start();
      return true;
    } catch (error) {
      const failure = classifyFailure(error);
      if (failure.kind === "unauthorized") deps.session.tokenRejected();
      deps.onFailure(failure);
      if (failure.kind === "sync" && failure.error.type === "upgrade_required") {
        this.updateRequired = true;
        deps.onState("update_required");
      } else {
        deps.onState("offline");
      }
      return false;
    }
  }
}
