import {
  type DeviceTelemetry,
  MAX_PULL_LIMIT,
  type OpInput,
  type PushResult,
  type SyncOp,
} from "@chorus/protocol";
import type { ConnectionState, ResyncProgress } from "../contract.js";
import { TelemetryReporter } from "../diagnostics/telemetry.js";
import type { KeyNeededError, OpCipher } from "../engine/encryption.js";
import type { LibraryState } from "../library-state.js";
import { type PendingOp, restampPending } from "../queue.js";
import { type BackoffPolicy, fullJitterDelay } from "./backoff.js";
import { retryDelay, verdictOf } from "./call-server.js";
import { createSyncClient, type SyncClient } from "./client.js";
import { Drain, type DrainOutcome } from "./drain.js";
import { classifyFailure, type SyncFailure } from "./failure.js";
import { Poller, type PollPolicy } from "./poller.js";
import { rebuildFromServer } from "./resync.js";
import type { SyncSession } from "./session.js";
import { applyRemoteBatch, Subscriber, type SubscriberState } from "./subscriber.js";

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
  /** The slow timer of telemetry reports over the socket (default 60 s). */
  telemetryMs?: number;
  /** Pulls over HTTP while the WebSocket cannot be opened (default DEFAULT_POLL_POLICY). */
  poll?: PollPolicy;
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
  /** Pushes, ACKs and telemetry on the socket (default) or over HTTP (createSyncClient). */
  callsOverSocket?: boolean;
  onRemoteOps(ops: SyncOp[]): void;
  onState(state: ConnectionState): void;
  onFailure(failure: SyncFailure): void;
  onPushed(count: number): void;
  onQuarantined(ops: ReadonlyArray<{ op: PendingOp; reason: string }>): void;
  onResyncProgress(progress: ResyncProgress | null): void;
  /** A full resync finished: the library now holds the server's state at its cursor. */
  onResynced?(): void;
  /** A report's answer asked this device for a convergence audit. */
  onAuditRequested?(): void;
  /** What the device says about itself, sent with each push and on a slow timer. */
  telemetry?(): DeviceTelemetry;
  log(message: string, context?: Record<string, unknown>): void;
  /** Seals values before they are pushed and opens them before they are folded. */
  cipher?: OpCipher;
  /**
   * Before anything moves: learn the account's key state (once per start of the loop).
   * `locked`: the account encrypts and this device lacks the key, so nothing is pushed or
   * applied (onLocked). Rejects when the state cannot be learnt; the loop retries.
   */
  prepareKeys?(client: SyncClient): Promise<"ready" | "locked">;
  onLocked?(): void;
  /** A received value needs a key this device does not hold; the loop has stopped moving. */
  onKeyNeeded?(error: KeyNeededError): void;
  /**
   * The server refused a push because the account's key changed (`key_epoch_stale`,
   * `key_missing`); the queue is untouched and the engine reads the key state again.
   */
  onKeyChanged?(failure: SyncFailure): void;
  /**
   * Whether a push was refused for its key since the queue was last re-stamped (kept in the
   * profile), and the call that clears it once the queue is re-stamped.
   */
  keyChange?: { pending(): boolean; done(): void };
}

/** Most pages read to learn the server's newest stamps before re-stamping the queue. */
const MAX_RESTAMP_PAGES = 200;

/**
 * The network side of one library while it is bound and not Local: the typed client, the
 * drain, the subscriber, and resync when the server says history this device needs is gone.
 */
export class SyncLoop {
  readonly client: SyncClient;
  /**
   * HTTP only: the pulls and ACKs of the poller, which must not wait for (or open) the
   * socket that cannot be opened.
   */
  private readonly httpClient: SyncClient;
  readonly drain: Drain | null;
  private readonly subscriber: Subscriber;
  private readonly poller: Poller;
  /** The connection state last reported (deps.onState), so "polling" is said once. */
  private reported: ConnectionState | null = null;
  private readonly reporter: TelemetryReporter | null;
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
      ...(deps.callsOverSocket !== undefined ? { callsOverSocket: deps.callsOverSocket } : {}),
      ...(timing.keepAliveMs ? { keepAliveMs: timing.keepAliveMs } : {}),
      ...(timing.reconnectBackoff
        ? {
            retryDelayMs: (n: number) =>
              fullJitterDelay(n + 1, timing.reconnectBackoff as BackoffPolicy) + 25,
          }
        : {}),
    });
    this.httpClient = createSyncClient(session, {
      ...(deps.protocolVersion !== undefined ? { protocolVersion: deps.protocolVersion } : {}),
      callsOverSocket: false,
    });
    this.drain = deps.withDrain
      ? new Drain({
          library,
          push: (ops) => this.push(ops),
          tokenRejected: () => session.tokenRejected(),
          onFailure: (failure) => {
            deps.onFailure(failure);
            this.reporter?.soon();
          },
          onPushed: (count) => {
            deps.onPushed(count);
            // The report that rode on the push described the queue before it; say how it is now.
            this.reporter?.soon();
          },
          onQuarantined: (ops) => {
            deps.onQuarantined(ops);
            this.reporter?.soon();
          },
          onKeyChanged: (failure) => deps.onKeyChanged?.(failure),
          ...(timing.backoff ? { backoff: timing.backoff } : {}),
          ...(timing.tickMs ? { tickMs: timing.tickMs } : {}),
          ...(deps.cipher ? { seal: (op: OpInput) => deps.cipher?.seal(op) ?? op } : {}),
        })
      : null;
    const collect = deps.telemetry;
    this.reporter = collect
      ? new TelemetryReporter({
          collect,
          send: async (telemetry, signal) => {
            const answer = await this.client.trpc.diagnostics.report.mutate(
              { telemetry },
              {
                signal: AbortSignal.any([
                  signal,
                  AbortSignal.timeout(timing.requestTimeoutMs ?? 20_000),
                ]),
              },
            );
            // An older server answers without the flag.
            if (answer?.auditRequested === true) deps.onAuditRequested?.();
            return answer;
          },
          ...(timing.telemetryMs ? { intervalMs: timing.telemetryMs } : {}),
          log: deps.log,
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
      onState: (state) => this.socketState(state),
      onFailure: (failure) => deps.onFailure(failure),
      tokenRejected: () => session.tokenRejected(),
      ...(timing.ackDebounceMs !== undefined ? { ackDebounceMs: timing.ackDebounceMs } : {}),
      ...(timing.reconnectBackoff ? { backoff: timing.reconnectBackoff } : {}),
      ...(deps.cipher ? { cipher: deps.cipher } : {}),
      onKeyNeeded: (error) => this.keyNeeded(error),
    });
    this.poller = new Poller({
      pull: (since) =>
        this.httpClient.trpc.sync.pull.query(
          { since, limit: MAX_PULL_LIMIT, fullResync: false },
          { signal: AbortSignal.timeout(timing.requestTimeoutMs ?? 20_000) },
        ),
      ack: (cursor) => {
        // As the subscriber does: never ACK what a power cut could still take back.
        library.durableCursor();
        return this.httpClient.trpc.sync.ack.mutate(
          { lastSeenId: cursor },
          { signal: AbortSignal.timeout(timing.requestTimeoutMs ?? 20_000) },
        );
      },
      cursor: () => library.cursor(),
      apply: (ops) => {
        const applied = applyRemoteBatch(library, ops, deps.cipher);
        if (applied.length > 0) deps.onRemoteOps(applied);
      },
      onPolled: () => this.report("polling"),
      onOffline: () => this.report("offline"),
      onFailure: (failure) => deps.onFailure(failure),
      onResyncRequired: (compactedUpTo) => {
        deps.log("resync required", { compactedUpTo, cursor: library.cursor() });
        this.scheduleRebuild(0);
      },
      onUpdateRequired: () => {
        void this.subscriber.stop();
        this.report("update_required");
      },
      onKeyNeeded: (error) => {
        void this.subscriber.stop();
        this.keyNeeded(error);
      },
      tokenRejected: () => session.tokenRejected(),
      ...(timing.poll ? { policy: timing.poll } : {}),
    });
  }

  private report(state: ConnectionState): void {
    if (state === "polling" && this.reported === "polling") return;
    this.reported = state;
    this.deps.onState(state);
  }

  /**
   * What the subscription says about the socket, with the poller in between: when the socket
   * goes down the poller starts (its first pull one interval later, so a socket that comes
   * straight back is not polled for), and while its pulls are answered the device is
   * "polling", not "offline" or "connecting"; when the socket opens the poller stops.
   */
  private socketState(state: SubscriberState): void {
    switch (state) {
      case "connected":
        void this.poller.stop();
        this.report("connected");
        return;
      case "update_required":
        void this.poller.stop();
        this.report("update_required");
        return;
      case "offline":
        if (!this.stopped) this.poller.start();
        this.report(this.poller.healthy ? "polling" : "offline");
        return;
      case "connecting":
        this.report(this.poller.healthy ? "polling" : "connecting");
        return;
    }
  }

  private keyNeeded(error: KeyNeededError): void {
    this.deps.log("a received value needs a key this device does not hold", {
      message: error.message,
    });
    this.deps.onKeyNeeded?.(error);
  }

  /** True once the library holds the server's state (always, except a loading server mode). */
  get ready(): boolean {
    return this.loaded;
  }

  start(): void {
    this.reporter?.start();
    if (!this.deps.prepareKeys) {
      this.begin();
      return;
    }
    this.starting = this.prepare();
  }

  private starting: Promise<void> | null = null;
  /** The account encrypts and this device lacks the key: this loop moves nothing. */
  private locked = false;

  /** Learns the account's key state (retrying with backoff), then starts moving ops. */
  private async prepare(): Promise<void> {
    const prepareKeys = this.deps.prepareKeys;
    if (!prepareKeys) return;
    const policy = this.deps.timing.reconnectBackoff ?? { baseMs: 500, maxMs: 15_000 };
    for (let failures = 1; !this.stopped; failures++) {
      try {
        const readiness = await prepareKeys(this.client);
        if (this.stopped) return;
        if (readiness === "locked") {
          // Nothing will load: whoever waits for the library is answered now.
          this.locked = true;
          for (const resolve of this.waiters.splice(0)) resolve();
          this.deps.onLocked?.();
          return;
        }
        await this.restampAfterKeyChange();
        if (this.stopped) return;
        this.begin();
        return;
      } catch (error) {
        const failure = classifyFailure(error);
        this.deps.onFailure(failure);
        const verdict = verdictOf(failure);
        if (verdict === "revoked") return;
        if (verdict === "update_required") {
          // As if the drain had met it: no retries until pushNow or an update.
          this.updateRequired = true;
          this.drain?.haltForUpdate();
          this.report("update_required");
          return;
        }
        // A 401: the token is dropped, and the next try refreshes it.
        if (failure.kind === "unauthorized") this.deps.session.tokenRejected();
        this.report("offline");
        await new Promise<void>((resolve) => {
          this.wakePrepare = resolve;
          this.prepareTimer = setTimeout(resolve, retryDelay(failure, failures, policy));
          this.prepareTimer.unref();
        });
        this.prepareTimer = null;
        this.wakePrepare = null;
      }
    }
  }

  /**
   * A push was refused because the account's key changed (ADR 0026), and the key is held again:
   * before the queue is pushed under it, it is re-stamped above every op the server holds now.
   * Another device's reset re-stated its library under the new key with its own stamps; the
   * edits that waited here were made concurrently with it, and must not lose to that
   * re-statement of older values. The pages are read for their stamps only (nothing is opened
   * or applied: the subscription applies them from the cursor, as always), from the cursor on
   * and without the compaction check, since only the newest stamps matter.
   */
  private async restampAfterKeyChange(): Promise<void> {
    const marker = this.deps.keyChange;
    if (!marker?.pending()) return;
    const { library } = this.deps;
    if (this.drain) {
      let since = library.cursor();
      for (let page = 0; page < MAX_RESTAMP_PAGES && !this.stopped; page++) {
        const result = await this.client.trpc.sync.pull.query(
          { since, limit: this.deps.timing.pullPageSize ?? MAX_PULL_LIMIT, fullResync: true },
          { signal: AbortSignal.timeout(this.deps.timing.requestTimeoutMs ?? 20_000) },
        );
        const newest = Math.max(0, ...result.ops.map((op) => op.lamportTs));
        if (newest > 0) library.clock.observe(newest);
        since = result.nextSince;
        if (!result.hasMore) break;
      }
      if (this.stopped) return;
      const restamped = library.db
        .transaction(() => {
          const ops = restampPending(library.db, library.clock);
          for (const op of ops) library.foldOwn(op);
          return ops.length;
        })
        .immediate();
      this.deps.log("re-stamped the queue after the account's key changed", { restamped });
    }
    marker.done();
  }

  private prepareTimer: NodeJS.Timeout | null = null;
  /** Ends the wait between two tries of prepare (stop must not wait out a backoff). */
  private wakePrepare: (() => void) | null = null;

  /** True once the key state was learnt and the drain and the subscription started. */
  private begun = false;

  private begin(): void {
    if (this.stopped || this.begun) return;
    this.begun = true;
    this.drain?.start();
    if (this.loaded) this.subscriber.start();
    else this.scheduleRebuild(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.rebuildTimer) clearTimeout(this.rebuildTimer);
    if (this.prepareTimer) clearTimeout(this.prepareTimer);
    this.wakePrepare?.();
    for (const resolve of this.waiters.splice(0)) resolve();
    await Promise.all([
      this.drain?.stop(),
      this.subscriber.stop(),
      this.poller.stop(),
      this.rebuilding,
      this.starting,
      this.reporter?.stop(),
    ]);
    await Promise.all([this.client.close(), this.httpClient.close()]);
  }

  push(ops: OpInput[]): Promise<PushResult> {
    const telemetry = this.deps.telemetry?.();
    return this.client.trpc.sync.push.mutate(telemetry ? { ops, telemetry } : { ops }, {
      signal: AbortSignal.timeout(this.deps.timing.requestTimeoutMs ?? 20_000),
    });
  }

  /** Sends a telemetry report now (before asking the server for a diagnosis). */
  reportNow(): Promise<void> {
    return this.reporter?.reportNow() ?? Promise.resolve();
  }

  /**
   * Drains now. Before the loop has learnt the account's key state (the first read failed,
   * e.g. with upgrade_required), it is asked once more first, and its failure is the answer:
   * nothing is pushed while it is unknown.
   */
  pushNow(): Promise<DrainOutcome> | null {
    const drain = this.drain;
    if (!drain) return null;
    if (this.begun || !this.deps.prepareKeys) return drain.pushNow();
    return this.prepareOnce().then((failed) => failed ?? drain.pushNow());
  }

  private async prepareOnce(): Promise<DrainOutcome | null> {
    const prepareKeys = this.deps.prepareKeys;
    if (!prepareKeys) return null;
    try {
      const readiness = await prepareKeys(this.client);
      if (readiness === "ready") {
        await this.restampAfterKeyChange();
        this.begin();
        return null;
      }
      return {
        status: "failed",
        pushed: 0,
        failure: {
          kind: "refused",
          code: "encryption_locked",
          message: "enter the encryption password to sync on this device",
        },
      };
    } catch (error) {
      const failure = classifyFailure(error);
      this.deps.onFailure(failure);
      return { status: "failed", pushed: 0, failure };
    }
  }

  /**
   * Server-connected mode: resolves once the library holds the server's state, or false when
   * the attempt to load it failed. A retry waiting out its backoff is started now: the user
   * is asking, so they get an answer from a fresh attempt rather than a stale failure.
   */
  async whenLoaded(): Promise<boolean> {
    if (this.loaded || this.stopped || this.locked) return this.loaded;
    if (this.rebuildTimer) {
      clearTimeout(this.rebuildTimer);
      this.rebuildTimer = null;
      this.scheduleRebuild(0);
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.loaded;
  }

  /**
   * A full resync asked for by the user (or an administrator's runbook): rebuilds the library
   * from a full pull now, after any rebuild already running. Local changes not yet uploaded
   * stay queued and are folded back on top. False when it failed (the library is left as it
   * was, and a retry is scheduled as for any failed rebuild).
   */
  async resyncNow(): Promise<boolean> {
    if (this.stopped || this.locked) return false;
    if (this.rebuilding) await this.rebuilding;
    if (this.rebuildTimer) {
      clearTimeout(this.rebuildTimer);
      this.rebuildTimer = null;
    }
    const run = this.rebuild();
    this.rebuilding = run.then((ok) => {
      this.rebuilding = null;
      for (const resolve of this.waiters.splice(0)) resolve();
      if (!ok && !this.updateRequired) {
        this.rebuildFailures += 1;
        const policy = this.deps.timing.reconnectBackoff ?? { baseMs: 500, maxMs: 15_000 };
        this.scheduleRebuild(fullJitterDelay(this.rebuildFailures, policy) + 50);
      }
    });
    const ok = await run;
    await this.rebuilding;
    return ok;
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

  /**
   * A full pull and rebuild now, asked by the user (discarding a change): waits for a rebuild
   * already running, then rebuilds with `inRebuild` run inside the transaction that replaces
   * the library. Resolves when the library is rebuilt; rejects with the failure otherwise (the
   * subscription is started again either way).
   */
  async rebuildNow(inRebuild: () => void): Promise<void> {
    if (this.stopped) throw new Error("the sync loop is stopped");
    while (this.rebuilding) await this.rebuilding;
    let failed: unknown = null;
    const run = this.rebuild(inRebuild, (error) => {
      failed = error;
    });
    this.rebuilding = run.then(() => undefined);
    try {
      const ok = await run;
      if (!ok) {
        if (!this.stopped && !this.updateRequired) this.subscriber.start();
        throw failed ?? new Error("the rebuild failed");
      }
    } finally {
      this.rebuilding = null;
      for (const resolve of this.waiters.splice(0)) resolve();
    }
  }

  /** One full pull and rebuild; false when it failed (the caller schedules another). */
  private async rebuild(
    inRebuild?: () => void,
    onError?: (error: unknown) => void,
  ): Promise<boolean> {
    const { deps } = this;
    this.report("resyncing");
    await Promise.all([this.subscriber.stop(), this.poller.stop()]);
    const started = Date.now();
    try {
      const result = await rebuildFromServer({
        library: deps.library,
        pull: (input) =>
          this.client.trpc.sync.pull.query(input, {
            signal: AbortSignal.timeout(deps.timing.requestTimeoutMs ?? 20_000),
          }),
        tokenRejected: () => deps.session.tokenRejected(),
        onProgress: (progress) => deps.onResyncProgress(progress),
        ...(deps.timing.pullPageSize ? { pageSize: deps.timing.pullPageSize } : {}),
        ...(deps.cipher ? { cipher: deps.cipher } : {}),
        ...(inRebuild ? { inRebuild } : {}),
      });
      deps.log("rebuilt from a full pull", { ...result, ms: Date.now() - started });
      this.loaded = true;
      this.rebuildFailures = 0;
      deps.onResyncProgress(null);
      deps.onRemoteOps([]);
      if (!this.stopped) this.subscriber.start();
      deps.onResynced?.();
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === "KeyNeededError") {
        deps.onResyncProgress(null);
        this.keyNeeded(error as KeyNeededError);
        // Not a failure to retry: the engine restarts the loop once it has the key state.
        this.stopped = true;
        return true;
      }
      // The pages were asked under the policy (call-server.ts): what reaches here is final
      // for this attempt, and the caller backs off before the next.
      onError?.(error);
      const failure = classifyFailure(error);
      deps.onFailure(failure);
      if (verdictOf(failure) === "update_required") {
        this.updateRequired = true;
        this.report("update_required");
      } else {
        this.report("offline");
      }
      return false;
    }
  }
}
