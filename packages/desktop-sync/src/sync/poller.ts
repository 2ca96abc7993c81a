import type { PullResult, SyncOp } from "@chorus/protocol";
import { KeyNeededError } from "../engine/encryption.js";
import { callBudget, callServer } from "./call-server.js";
import { classifyFailure, type SyncFailure } from "./failure.js";

/**
 * How often a device whose WebSocket cannot be opened pulls over HTTP instead.
 *
 * Defaults: every 5 s (±20 %) while the pulls are answered; after a failed pull, the wait
 * doubles from 10 s up to 60 s (half of it random), or is what a rate_limited answer asked plus
 * that. 5 s keeps another device's edit a few seconds away at one small indexed query per
 * polling device every 5 s (the server's pull limit is 100 a second per device), and only
 * devices behind a proxy that refuses WebSockets ever poll. The jitter keeps devices that lost
 * their sockets together (a proxy put in front of an office) from pulling in step.
 */
export interface PollPolicy {
  /** The wait between two answered polls, and the first poll's delay (default 5 s). */
  intervalMs: number;
  /** No wait after failures is longer than this (default 60 s). */
  maxMs: number;
}

export const DEFAULT_POLL_POLICY: PollPolicy = { intervalMs: 5_000, maxMs: 60_000 };

/**
 * The wait before the next poll after `failures` failed polls in a row (0: the last one was
 * answered): the interval ±20 % while answered; after failures, interval·2^failures capped at
 * maxMs, of which the upper half is drawn at random (never less than half, so a failing server
 * is not asked again at once); a rate_limited answer's retryAfterMs comes on top.
 */
export function pollDelay(
  failures: number,
  policy: PollPolicy,
  failure: SyncFailure | null = null,
  random: () => number = Math.random,
): number {
  if (failures <= 0) return Math.round(policy.intervalMs * (0.8 + 0.4 * random()));
  const exponent = Math.min(failures, 30);
  const ceiling = Math.min(policy.maxMs, policy.intervalMs * 2 ** exponent);
  const backoff = Math.round(ceiling / 2 + (random() * ceiling) / 2);
  const asked =
    failure?.kind === "sync" && failure.error.type === "rate_limited"
      ? failure.error.retryAfterMs
      : 0;
  return asked + backoff;
}

/** Pages of one poll at most, before the next poll (a large backlog is pulled in steps). */
const MAX_PAGES_PER_POLL = 20;

export interface PollerDeps {
  /** One page of the user's ops after `since` (sync.pull over HTTP, not a full resync). */
  pull(since: number): Promise<PullResult>;
  /** The ACK of the cursor, over HTTP (sync.ack): the same report a subscription sends. */
  ack(cursor: number): Promise<unknown>;
  cursor(): number;
  /**
   * Applies one page exactly as a subscription's delivery is applied (applyRemoteBatch: one
   * transaction with the cursor, ops at or below the cursor skipped). Throws KeyNeededError
   * when a value needs a key this device lacks (nothing applied).
   */
  apply(ops: SyncOp[]): void;
  /** A poll was answered: the device holds everything up to the server's head at that time. */
  onPolled(): void;
  /** A poll was not answered (or not usable); the next one waits out the backoff. */
  onOffline(failure: SyncFailure): void;
  onFailure(failure: SyncFailure): void;
  /** The cursor is below the server's compaction watermark: a full resync is needed. */
  onResyncRequired(compactedUpTo: number): void;
  /** The server does not serve this build's protocol: polling stops. */
  onUpdateRequired(failure: SyncFailure): void;
  /** A received value needs a key this device lacks: polling stops. */
  onKeyNeeded(error: KeyNeededError): void;
  tokenRejected(): void;
  policy?: PollPolicy;
  random?: () => number;
}

/**
 * Catches up over HTTP while the device's WebSocket cannot be opened (a proxy that refuses
 * WebSocket upgrades but passes HTTPS): pulls from the local cursor on a jittered interval,
 * applies each page as a subscription delivery is applied, ACKs the cursor, and backs off when
 * the pulls fail. The sync loop starts it when the socket goes down and stops it when the
 * socket opens again; a revoked, upgrade_required or encryption-locked answer stops it as it
 * stops the subscription.
 */
export class Poller {
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private failures = 0;
  private active = false;
  private answered = false;
  private ackedUpTo = 0;
  private readonly policy: PollPolicy;

  constructor(private readonly deps: PollerDeps) {
    this.policy = deps.policy ?? DEFAULT_POLL_POLICY;
  }

  /** True from start until stop (or until an answer stopped it for good). */
  get running(): boolean {
    return this.active;
  }

  /** True while running and the last poll was answered: the device is in step over HTTP. */
  get healthy(): boolean {
    return this.active && this.answered;
  }

  /** Starts polling; the first poll after one interval (a socket that comes back soon wins). */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.answered = false;
    this.failures = 0;
    this.schedule(pollDelay(0, this.policy, null, this.deps.random));
  }

  /** Stops polling; resolves once a poll in flight has ended (it applies nothing after this). */
  async stop(): Promise<void> {
    this.active = false;
    this.answered = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.polling;
  }

  private schedule(delayMs: number): void {
    if (!this.active) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.polling = this.poll().finally(() => {
        this.polling = null;
      });
    }, delayMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const { deps } = this;
    for (let page = 0; page < MAX_PAGES_PER_POLL; page++) {
      if (!this.active) return;
      const since = deps.cursor();
      // A refused token is refreshed and the page asked again once; anything else waits for
      // the next poll.
      const asked = await callServer(
        () => deps.pull(since),
        { tokenRejected: () => deps.tokenRejected() },
        callBudget({ refreshes: 1 }),
      );
      if (!this.active) return;
      if (!asked.ok) {
        this.failed(asked.failure);
        return;
      }
      try {
        deps.apply(asked.value.ops);
      } catch (error) {
        if (error instanceof KeyNeededError) {
          this.active = false;
          deps.onKeyNeeded(error);
          return;
        }
        // Nothing was applied and the cursor did not move: ask again after the backoff.
        this.failed({ kind: "server", message: `could not apply remote ops: ${String(error)}` });
        return;
      }
      if (!asked.value.hasMore) break;
    }
    await this.sendAck();
    if (!this.active) return;
    this.failures = 0;
    this.answered = true;
    deps.onPolled();
    this.schedule(pollDelay(0, this.policy, null, deps.random));
  }

  private failed(failure: SyncFailure): void {
    const { deps } = this;
    if (failure.kind === "sync" && failure.error.type === "resync_required") {
      this.active = false;
      deps.onResyncRequired(failure.error.compactedUpTo);
      return;
    }
    deps.onFailure(failure);
    if (failure.kind === "revoked") {
      // Final until the profile is bound again: the engine signs the device out.
      this.active = false;
      return;
    }
    if (failure.kind === "sync" && failure.error.type === "upgrade_required") {
      this.active = false;
      deps.onUpdateRequired(failure);
      return;
    }
    this.answered = false;
    this.failures += 1;
    deps.onOffline(failure);
    this.schedule(pollDelay(this.failures, this.policy, failure, deps.random));
  }

  private async sendAck(): Promise<void> {
    const cursor = this.deps.cursor();
    if (cursor <= this.ackedUpTo) return;
    try {
      await this.deps.ack(cursor);
      this.ackedUpTo = Math.max(this.ackedUpTo, cursor);
    } catch (error) {
      // The next poll ACKs again; the server never moves a cursor backwards.
      if (classifyFailure(error).kind === "unauthorized") this.deps.tokenRejected();
    }
  }
}
