import { SyncProtocolError, syncError } from "@chorus/protocol";
import { TRPCError } from "@trpc/server";
import type { SocketLike } from "./context.js";

/** Bounds on what one caller may hold of a server process's memory and database pool. */
export interface ResourceBounds {
  /**
   * Bytes of ops one pull page (and one page of a subscription's backfill) carries at most:
   * the ops limit alone lets 1,000 ops of 64 KiB make a 64 MB answer. A page always has at
   * least one op, so a reader never stalls.
   */
  pageMaxBytes: number;
  /**
   * Pushes of one user in flight at once on this process. Pushes of one user run one at a time
   * anyway (the user's lock); each waiting one would hold a pooled connection, so without this
   * bound one account could take the whole pool from everyone else.
   */
  pushesPerUser: number;
  /**
   * Pushes of one user waiting (in memory, without a connection) for one of those slots; past
   * this a push is refused with rate_limited and a short retry-after.
   */
  pushQueuePerUser: number;
  /** Live subscriptions one WebSocket may carry. */
  subscriptionsPerSocket: number;
}

export const DEFAULT_RESOURCE_BOUNDS: ResourceBounds = {
  pageMaxBytes: 4 * 1024 * 1024,
  pushesPerUser: 4,
  pushQueuePerUser: 64,
  subscriptionsPerSocket: 8,
};

/** How long a push refused by the per-user bound is told to wait before retrying. */
export const PUSH_BUSY_RETRY_MS = 250;

/** Per key: at most `max` in flight, at most `queue` waiting in line (first come, first served). */
export class Gate<K> {
  private readonly lines = new Map<K, { running: number; waiting: Array<() => void> }>();

  constructor(
    private readonly max: number,
    private readonly queue: number,
  ) {}

  /**
   * Admits `key`: its release function at once when a slot is free (no promise to wait for, ADR
   * 0039), a promise of it when the key's slots are taken, null when its line is full.
   */
  enter(key: K): (() => void) | Promise<() => void> | null {
    let line = this.lines.get(key);
    if (!line) {
      line = { running: 0, waiting: [] };
      this.lines.set(key, line);
    }
    if (line.running < this.max) {
      line.running += 1;
      return this.releaser(key, line);
    }
    if (line.waiting.length >= this.queue) return null;
    const current = line;
    return new Promise((resolve) =>
      current.waiting.push(() => resolve(this.releaser(key, current))),
    );
  }

  /** Frees the slot once, however often it is called: to the next in line, or for good. */
  private releaser(key: K, line: { running: number; waiting: Array<() => void> }): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = line.waiting.shift();
      if (next) return next(); // the slot passes straight to the next in line
      line.running -= 1;
      if (line.running === 0) this.lines.delete(key);
    };
  }
}

/** The per-process state the bounds need. */
export class Bounds {
  private readonly pushes: Gate<string>;
  private readonly subscriptions = new WeakMap<SocketLike, number>();

  constructor(readonly settings: ResourceBounds = DEFAULT_RESOURCE_BOUNDS) {
    this.pushes = new Gate(settings.pushesPerUser, settings.pushQueuePerUser);
  }

  /**
   * A slot of the user's pushes, taken before a connection is: its release function when one is
   * free, a promise of it to wait for otherwise; refuses (throws) with rate_limited when the
   * user's line is full.
   */
  enterPush(userId: string): (() => void) | Promise<() => void> {
    const admitted = this.pushes.enter(userId);
    if (admitted) return admitted;
    throw new TRPCError({
      code: "TOO_MANY_REQUESTS",
      message: `too many pushes of this account in flight and waiting; retry in ${PUSH_BUSY_RETRY_MS} ms`,
      cause: new SyncProtocolError(syncError("rate_limited", { retryAfterMs: PUSH_BUSY_RETRY_MS })),
    });
  }

  /** Counts a subscription on its socket; refuses past the bound. */
  enterSubscription(socket: SocketLike | null): () => void {
    if (!socket) return () => {};
    const count = this.subscriptions.get(socket) ?? 0;
    if (count >= this.settings.subscriptionsPerSocket) {
      throw new TRPCError({
        code: "TOO_MANY_REQUESTS",
        message: `at most ${this.settings.subscriptionsPerSocket} subscriptions per connection; end one first`,
      });
    }
    this.subscriptions.set(socket, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.subscriptions.set(socket, Math.max(0, (this.subscriptions.get(socket) ?? 1) - 1));
    };
  }
}
