import type { SyncOp } from "@chorus/protocol";
import type { SocketLike, SyncMetrics } from "../context.js";
import type { Bus, OpsEvent } from "./bus.js";

/** Default bound of bytes queued on a subscriber's socket; past it the subscriber is dropped
 * and resumes by lastEventId. */
export const SLOW_CONSUMER_BUFFER_BYTES = 4 * 1024 * 1024;
/** WebSocket close code for a dropped slow consumer (4000-4999: application codes). */
export const SLOW_CONSUMER_CLOSE_CODE = 4008;

/**
 * What the WebSocket encoder answers for a subscription handing itself to the fan-out: the
 * server's socket drops it instead of sending it (nothing goes to the client).
 */
export const FANOUT_REGISTERED = "\u0000chorus:fanout-registered";
/** The method by which the encoder tells a yielded Subscriber its tRPC message id. */
export const FANOUT_BIND: unique symbol = Symbol.for("chorus.fanout.bind");

const OPEN = 1; // WebSocket.OPEN

/** A socket the fan-out can write to: the sync server's (apps/sync-server/src/socket.ts). */
export interface FanoutSocket extends SocketLike {
  readonly readyState: number;
  /** Sends a frame encoded once for several sockets, as a text message. */
  sendFrame(frame: Buffer): void;
}

export function isFanoutSocket(socket: SocketLike | null): socket is FanoutSocket {
  return typeof (socket as Partial<FanoutSocket> | null)?.sendFrame === "function";
}

/** The frames of one event, shared by the subscribers of its user. */
export class Frames {
  private suffixes: (string | undefined)[] = [];
  private byPrefix = new Map<string, (Buffer | undefined)[]>();
  constructor(private readonly ops: SyncOp[]) {}

  /**
   * The message tRPC's adapter writes for `tracked(String(op.id), op)` on the subscription whose
   * message prefix is given, byte for byte (the same shape the shared-value encoder pins):
   * `{"id":<sub>[,"jsonrpc":…],"result":{"type":"data","data":{"id":"<op>","data":<op>},"id":"<op>"}}`.
   */
  frame(prefix: string, index: number): Buffer {
    let frames = this.byPrefix.get(prefix);
    if (!frames) {
      frames = [];
      this.byPrefix.set(prefix, frames);
    }
    let frame = frames[index];
    if (!frame) {
      let suffix = this.suffixes[index];
      if (suffix === undefined) {
        const op = this.ops[index] as SyncOp;
        const tracked = JSON.stringify(String(op.id));
        suffix = `,"result":{"type":"data","data":{"id":${tracked},"data":${JSON.stringify(op)}},"id":${tracked}}}`;
        this.suffixes[index] = suffix;
      }
      frame = Buffer.from(prefix + suffix);
      frames[index] = frame;
    }
    return frame;
  }
}

interface UserEntry {
  userId: string;
  subscribers: Set<Subscriber>;
  abort: AbortController;
  ready: Promise<void>;
}

/**
 * One live `sync.subscribe` on a socket, as the fan-out holds it. While the subscription reads
 * the database (its backfill, or after a gap) it is not live and the user's events are queued
 * here; once it has caught up it calls follow() and the fan-out writes each new op to its
 * socket directly, until a gap sends it back to the database or it ends.
 */
export class Subscriber {
  /** `{"id":<subscription id>[,"jsonrpc":"2.0"]`, once the encoder has bound it. */
  prefix: string | null = null;
  cursor = 0;
  live = false;
  closed = false;
  queue: OpsEvent[] = [];
  private wake: ((cursor: number | null) => void) | null = null;

  constructor(
    readonly fanout: Fanout,
    readonly entry: UserEntry,
    readonly socket: FanoutSocket,
    readonly slowConsumerBytes: number,
  ) {}

  /** Called by the encoder with the subscription's message id (see FANOUT_BIND). */
  [FANOUT_BIND](id: number | string, jsonrpc: unknown): void {
    const rpc = jsonrpc === undefined ? "" : `,"jsonrpc":${JSON.stringify(jsonrpc)}`;
    this.prefix = `{"id":${JSON.stringify(id)}${rpc}`;
  }

  /**
   * Live from `cursor` on: the queued events first, then each event as it comes. Resolves with
   * the cursor to read the database from when a batch does not follow on (a gap), or null when
   * the subscription ended (the socket closed, it was dropped as too slow, or end()).
   */
  follow(cursor: number): Promise<number | null> {
    if (this.prefix === null) {
      throw new Error("the WebSocket encoder did not bind this subscription to the fan-out");
    }
    this.cursor = cursor;
    this.live = true;
    const queued = this.queue;
    this.queue = [];
    for (const event of queued) {
      if (!this.live) break;
      this.fanout.apply(this, event, new Frames(event.ops));
    }
    if (this.closed) return Promise.resolve(null);
    if (!this.live) return Promise.resolve(this.cursor);
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** A gap: back to the database from the cursor. */
  catchUp(): void {
    this.live = false;
    this.queue = [];
    const wake = this.wake;
    this.wake = null;
    wake?.(this.cursor);
  }

  /** Ends the subscription's live part: follow() resolves null. Idempotent. */
  end(): void {
    this.closed = true;
    this.live = false;
    this.queue = [];
    const wake = this.wake;
    this.wake = null;
    wake?.(null);
  }

  /** For addEventListener("abort", subscriber): the subscription was stopped. */
  handleEvent(): void {
    this.end();
  }

  /** Ends and unregisters (the subscription's finally). */
  close(): void {
    this.end();
    this.fanout.leave(this);
  }
}

/**
 * The server's own fan-out of live ops. A replica subscribes to the bus once per user with
 * subscribers here (not once per socket), and when a batch of the user's ops arrives each op's
 * message is encoded once per distinct subscription id and written to every live subscribed
 * socket of the user: no per-socket async generator step, tRPC envelope or encoding per op.
 * The rules are those the per-subscription loop had: a batch that follows on from a
 * subscriber's cursor is written as is (ops it has are skipped); one that does not (afterId
 * past the cursor) sends that subscriber back to the database; a socket with more than its
 * bound queued is closed as a slow consumer before the next write.
 */
export class Fanout {
  private readonly users = new Map<string, UserEntry>();

  constructor(
    private readonly bus: Pick<Bus, "subscribeOps">,
    private readonly metrics: Pick<SyncMetrics, "fanoutDelivered" | "slowConsumerDisconnected">,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** Subscriptions of the user registered here, and how many of them are live (for tests). */
  subscribersOf(userId: string): { registered: number; live: number } {
    const subscribers = [...(this.users.get(userId)?.subscribers ?? [])];
    return {
      registered: subscribers.length,
      live: subscribers.filter((subscriber) => subscriber.live).length,
    };
  }

  /**
   * Registers a subscription of the user's on `socket`, not yet live (events are queued).
   * Resolves once the user's live events flow in: call it BEFORE backfilling.
   */
  async open(userId: string, socket: FanoutSocket, slowConsumerBytes: number): Promise<Subscriber> {
    let entry = this.users.get(userId);
    if (!entry) {
      const created: UserEntry = {
        userId,
        subscribers: new Set(),
        abort: new AbortController(),
        ready: Promise.resolve(),
      };
      created.ready = this.listen(userId, created);
      this.users.set(userId, created);
      entry = created;
    }
    const subscriber = new Subscriber(this, entry, socket, slowConsumerBytes);
    entry.subscribers.add(subscriber);
    try {
      await entry.ready;
    } catch (error) {
      subscriber.close();
      throw error;
    }
    return subscriber;
  }

  leave(subscriber: Subscriber): void {
    const { entry } = subscriber;
    if (!entry.subscribers.delete(subscriber) || entry.subscribers.size > 0) return;
    entry.abort.abort();
    if (this.users.get(entry.userId) === entry) this.users.delete(entry.userId);
  }

  private async listen(userId: string, entry: UserEntry): Promise<void> {
    let events: AsyncIterable<OpsEvent>;
    try {
      events = await this.bus.subscribeOps(userId, entry.abort.signal);
    } catch (error) {
      if (this.users.get(userId) === entry) this.users.delete(userId);
      throw error;
    }
    void (async () => {
      for await (const event of events) this.deliver(entry, event);
    })().catch((error: unknown) => {
      // The user's stream broke: end its subscriptions, whose clients resume by lastEventId.
      this.onError(error);
      for (const subscriber of [...entry.subscribers]) subscriber.end();
    });
  }

  private deliver(entry: UserEntry, event: OpsEvent): void {
    const frames = new Frames(event.ops);
    for (const subscriber of entry.subscribers) {
      if (subscriber.closed) continue;
      if (!subscriber.live) {
        subscriber.queue.push(event);
        continue;
      }
      try {
        this.apply(subscriber, event, frames);
      } catch (error) {
        this.onError(error);
        subscriber.end();
      }
    }
  }

  /** Writes the event's ops the subscriber does not have yet, or sends it to the database. */
  apply(subscriber: Subscriber, event: OpsEvent, frames: Frames): void {
    if (event.afterId > subscriber.cursor) {
      subscriber.catchUp();
      return;
    }
    const { socket } = subscriber;
    const prefix = subscriber.prefix as string;
    let delivered = 0;
    try {
      for (let index = 0; index < event.ops.length; index++) {
        const op = event.ops[index] as SyncOp;
        if (op.id <= subscriber.cursor) continue;
        // Closing: tRPC stops the subscription when the close completes.
        if (socket.readyState !== OPEN) return;
        if (socket.bufferedAmount > subscriber.slowConsumerBytes) {
          this.metrics.slowConsumerDisconnected();
          socket.close(SLOW_CONSUMER_CLOSE_CODE, "slow consumer: reconnect with lastEventId");
          subscriber.end();
          return;
        }
        socket.sendFrame(frames.frame(prefix, index));
        subscriber.cursor = op.id;
        delivered++;
      }
    } finally {
      if (delivered > 0) this.metrics.fanoutDelivered(delivered);
    }
  }
}
