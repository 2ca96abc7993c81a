import { EventEmitter } from "node:events";
import type { SyncOp } from "@chorus/protocol";

/**
 * The fan-out bus: after a push commits, its ops are published for the user's live
 * subscribers on every replica; control events (a device revoked), the ACK-flush barrier
 * compaction needs and device presence cross replicas too. In-process by default; Redis
 * pub/sub (redis-bus.ts) when REDIS_URL is set.
 */
export interface OpsEvent {
  userId: string;
  /** The user's newest op id before this batch: a subscriber whose cursor equals it can apply
   * the batch directly; a larger value means it missed something and must read the database. */
  afterId: number;
  /**
   * The batch's new ops, ascending by id. Empty in a nudge: "the log holds ops up to afterId",
   * sent when ops may have been committed without reaching subscribers (a push of duplicates
   * only, a bus reconnect); a subscriber behind afterId reads the database.
   */
  ops: SyncOp[];
}

/** A nudge that sends every subscriber of the user back to the database. */
export function recheckDatabase(userId: string): OpsEvent {
  return { userId, afterId: Number.MAX_SAFE_INTEGER, ops: [] };
}

/** Retry delays of a publish that failed after its push committed. */
const PUBLISH_RETRY_MS = [100, 500, 2_000, 5_000, 15_000];

/**
 * Publishes the ops of a committed push, and never fails it: the ops are stored, so the push
 * has succeeded whatever happens to the fan-out. The first attempt is awaited (subscribers
 * usually have the ops before the pusher has its answer); when it fails the error is reported
 * and the same event is published again in the background, with backoff. Publishing an event
 * twice is harmless: a subscriber skips ids it has, and reads the database on a gap.
 */
export async function publishCommitted(
  bus: Pick<Bus, "publishOps">,
  event: OpsEvent,
  onError: (error: unknown, attempt: number) => void,
  retryDelaysMs: readonly number[] = PUBLISH_RETRY_MS,
): Promise<void> {
  try {
    await bus.publishOps(event);
    return;
  } catch (error) {
    onError(error, 1);
  }
  const retry = (attempt: number) => {
    const delay = retryDelaysMs[attempt - 2];
    if (delay === undefined) return;
    setTimeout(() => {
      bus.publishOps(event).catch((error: unknown) => {
        onError(error, attempt);
        retry(attempt + 1);
      });
    }, delay).unref();
  };
  retry(2);
}

export type ControlEvent = { type: "device_revoked"; userId: string; deviceId: string };

export interface AckFlushOutcome {
  /** Replicas that received the request (this one included). */
  replicas: number;
  /** Replicas that confirmed their buffered ACKs are written. */
  answered: number;
}

export interface Bus {
  publishOps(event: OpsEvent): Promise<void>;
  /** Resolves once live events for the user flow in: call it BEFORE backfilling. */
  subscribeOps(userId: string, signal: AbortSignal): Promise<AsyncIterable<OpsEvent>>;
  publishControl(event: ControlEvent): Promise<void>;
  onControl(listener: (event: ControlEvent) => void): () => void;
  /**
   * Asks every replica, this one included, to write its buffered ACKs of the user (null: of
   * everyone) and waits for their confirmations, up to a timeout (a dead replica's ACKs died
   * with it). Compaction calls this before reading cursors.
   */
  requestAckFlush(userId: string | null): Promise<AckFlushOutcome>;
  /** How this replica answers flush requests (the ACK buffer's flush). */
  onAckFlushRequest(handler: (userId: string | null) => Promise<void>): () => void;
  /** Shares this replica's online devices and returns those of every replica. */
  sharePresence(local: () => string[]): void;
  onlineDevices(): ReadonlySet<string>;
  close(): Promise<void>;
}

/**
 * Iterates an emitter's events for one key, registered at call time, until `signal` aborts.
 * A small queue of its own rather than `events.on()`, whose iterator costs tens of KiB per
 * idle subscriber, and a plain iterator object rather than an async generator: every event
 * passes through here once per subscriber, so each promise hop counts at fan-out.
 */
export function eventsOf<T>(
  emitter: EventEmitter,
  key: string,
  signal: AbortSignal,
): AsyncIterable<T> {
  const queue: T[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | null = null;
  const finished: IteratorResult<T> = { value: undefined, done: true };
  const listener = (event: T) => {
    if (!waiting) {
      queue.push(event);
      return;
    }
    const wake = waiting;
    waiting = null;
    wake({ value: event, done: false });
  };
  const stop = () => {
    emitter.off(key, listener);
    signal.removeEventListener("abort", stop);
    queue.length = 0;
    const wake = waiting;
    waiting = null;
    wake?.(finished);
  };
  emitter.on(key, listener);
  if (signal.aborted) stop();
  else signal.addEventListener("abort", stop, { once: true });
  const iterator: AsyncIterator<T> = {
    next() {
      const event = queue.shift();
      if (event !== undefined) return Promise.resolve({ value: event, done: false });
      if (signal.aborted) return Promise.resolve(finished);
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return() {
      stop();
      return Promise.resolve(finished);
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}

export function createInProcessBus(): Bus {
  const ops = new EventEmitter();
  ops.setMaxListeners(0);
  const control = new EventEmitter();
  control.setMaxListeners(0);
  const flush = ackFlushSlot();
  let localPresence: () => string[] = () => [];

  return {
    async publishOps(event) {
      ops.emit(event.userId, event);
    },
    async subscribeOps(userId, signal) {
      return eventsOf<OpsEvent>(ops, userId, signal);
    },
    async publishControl(event) {
      control.emit("event", event);
    },
    onControl(listener) {
      control.on("event", listener);
      return () => control.off("event", listener);
    },
    async requestAckFlush(userId) {
      const handler = flush.handler();
      if (!handler) return { replicas: 1, answered: 0 };
      await handler(userId);
      return { replicas: 1, answered: 1 };
    },
    onAckFlushRequest: flush.register,
    sharePresence(local) {
      localPresence = local;
    },
    onlineDevices() {
      return new Set(localPresence());
    },
    async close() {
      ops.removeAllListeners();
      control.removeAllListeners();
    },
  };
}

type AckFlushHandler = (userId: string | null) => Promise<void>;

/**
 * The one ACK-flush handler a replica has (its sync server registers it), as both buses keep
 * it: registering replaces the previous one; the returned function removes it only while it is
 * still the registered one.
 */
export function ackFlushSlot(): {
  handler(): AckFlushHandler | undefined;
  register(handler: AckFlushHandler): () => void;
} {
  let current: AckFlushHandler | undefined;
  return {
    handler: () => current,
    register(handler) {
      current = handler;
      return () => {
        if (current === handler) current = undefined;
      };
    },
  };
}
