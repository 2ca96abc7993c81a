import type { SyncOp } from "@chorus/protocol";
import type { SocketLike, SyncMetrics } from "../context.js";
import type { Bus, OpsEvent } from "./bus.js";

/** Default bound of bytes queued on a subscriber's socket; past it the subscriber is dropped
 * and resumes by lastEventId. */
export const SLOW_CONSUMER_BUFFER_BYTES = 4 * 1024 * 1024;
/** WebSocket close code for a dropped slow consumer (4000-4999: application codes). */
export const SLOW_CONSUMER_CLOSE_CODE = 4008;
/**
 * WebSocket close code when a handed-off subscription cannot go on (its user's live stream
 * broke, or reading the database after a gap failed): the client reconnects and resumes by
 * lastEventId, as after any dropped connection (1011: internal error).
 */
export const FANOUT_FAILED_CLOSE_CODE = 1011;

/**
 * What the WebSocket encoder answers for the message by which a subscription hands itself to
 * the fan-out: the server's socket drops it (nothing goes to the client).
 */
export const FANOUT_REGISTERED = "\u0000chorus:fanout-registered";
/** The method by which the encoder tells a yielded Subscriber its tRPC message id. */
export const FANOUT_BIND: unique symbol = Symbol.for("chorus.fanout.bind");

/** Ops per database page of a subscription's backfill (and of the fan-out's after a gap). */
export const BACKFILL_PAGE = 500;

const OPEN = 1; // WebSocket.OPEN

/**
 * A socket the fan-out can serve subscriptions on: the sync server's
 * (apps/sync-server/src/socket.ts). It keeps the subscriptions handed off to the fan-out by
 * their tRPC message id, answers their `subscription.stop` and ends them when it closes.
 */
export interface FanoutSocket extends SocketLike {
  readonly readyState: number;
  /** Sends a frame encoded once for several sockets, as a text message. */
  sendFrame(frame: Buffer | string): void;
  /** Registers a subscription served by the fan-out under its message id. */
  adopt(id: number | string, subscriber: Subscriber): void;
  /** Forgets it (it ended). */
  release(id: number | string, subscriber: Subscriber): void;
}

export function isFanoutSocket(socket: SocketLike | null): socket is FanoutSocket {
  return typeof (socket as Partial<FanoutSocket> | null)?.adopt === "function";
}

/** How the fan-out reads the database after a gap (ops-store's readPage, bound by the server). */
export type ReadAfter = (
  userId: string,
  after: number,
) => Promise<{ ops: SyncOp[]; more: boolean }>;

/** The frames of one batch of ops, shared by the subscribers of its user. */
export class Frames {
  private suffixes: (string | undefined)[] = [];
  private byPrefix: Map<string, (Buffer | undefined)[]> | null = null;
  constructor(private readonly ops: SyncOp[]) {}

  /**
   * The message tRPC's adapter writes for `tracked(String(op.id), op)` on the subscription whose
   * message prefix is given, byte for byte (the shape the shared-value encoder pins):
   * `{"id":<sub>[,"jsonrpc":…],"result":{"type":"data","data":{"id":"<op>","data":<op>},"id":"<op>"}}`.
   */
  frame(prefix: string, index: number): Buffer {
    this.byPrefix ??= new Map();
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

/** What the subscription leaves behind when it ends (its bound slot, its last-seen write). */
export type OnEnd = () => void;

interface UserEntry {
  userId: string;
  subscribers: Set<Subscriber>;
  abort: AbortController;
  ready: Promise<void>;
}

/**
 * One live `sync.subscribe`, once it has caught up: a plain object in its user's set, in place
 * of a suspended async generator with tRPC's per-subscription machinery around it. Registered
 * (open) before the subscription backfills, so no event is missed: events are queued until it
 * is handed off (follow()), then each new op is written straight to its socket.
 */
export class Subscriber {
  /** `{"id":<subscription id>[,"jsonrpc":"2.0"]`, once the encoder has bound it. */
  prefix: string | null = null;
  /** The subscription's tRPC message id (what the client stops it by). */
  id: number | string | null = null;
  cursor = 0;
  /** Handed off and not reading the database: events are written as they come. */
  live = false;
  /** Reading the database after a gap: events are queued. */
  catchingUp = false;
  ended = false;
  queue: OpsEvent[] = [];
  onEnd: OnEnd | null = null;

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
    this.id = id;
  }

  /**
   * Takes the subscription over from `cursor` on (everything up to it is on the socket): the
   * queued events first, then each event as it comes, until the socket closes or the client
   * stops it; `onEnd` runs then, once.
   */
  follow(cursor: number, onEnd: OnEnd): void {
    if (this.prefix === null || this.id === null) {
      throw new Error("the WebSocket encoder did not bind this subscription to the fan-out");
    }
    this.onEnd = onEnd;
    if (this.ended) {
      this.finish();
      return;
    }
    this.cursor = cursor;
    this.live = true;
    this.socket.adopt(this.id, this);
    this.drain();
  }

  /** Applies the queued events in order, or reads the database on a gap. */
  drain(): void {
    while (this.live && !this.catchingUp && !this.ended) {
      const event = this.queue.shift();
      if (!event) return;
      this.fanout.apply(this, event, new Frames(event.ops));
    }
  }

  /** Ends the subscription (its socket closed, the client stopped it). Idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.live = false;
    this.queue = [];
    this.fanout.leave(this);
    if (this.id !== null) this.socket.release(this.id, this);
    this.finish();
  }

  private finish(): void {
    const onEnd = this.onEnd;
    this.onEnd = null;
    onEnd?.();
  }
}

/**
 * The server's own fan-out of live ops. A replica subscribes to the bus once per user with
 * subscribers here (not once per socket), and when a batch of the user's ops arrives each op's
 * message is encoded once per distinct subscription id and written to every live subscribed
 * socket of the user. The rules are those of the subscription's own loop: a batch that follows
 * on from a subscriber's cursor is written as is (ops it has are skipped); one that does not
 * (afterId past the cursor) makes that subscriber read the database from its cursor, page by
 * page, queuing events meanwhile; a socket with more than its bound queued is closed as a slow
 * consumer before the next write. Nothing here touches cursors or ACKs: only the device's own
 * `sync.ack` does.
 */
export class Fanout {
  private readonly users = new Map<string, UserEntry>();

  constructor(
    private readonly bus: Pick<Bus, "subscribeOps">,
    private readonly readAfter: ReadAfter,
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

  /** Users with a live stream on this replica (for tests). */
  get userCount(): number {
    return this.users.size;
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
      created.ready = this.listen(created);
      this.users.set(userId, created);
      entry = created;
    }
    const subscriber = new Subscriber(this, entry, socket, slowConsumerBytes);
    entry.subscribers.add(subscriber);
    try {
      await entry.ready;
    } catch (error) {
      subscriber.end();
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

  private async listen(entry: UserEntry): Promise<void> {
    let events: AsyncIterable<OpsEvent>;
    try {
      events = await this.bus.subscribeOps(entry.userId, entry.abort.signal);
    } catch (error) {
      if (this.users.get(entry.userId) === entry) this.users.delete(entry.userId);
      throw error;
    }
    void (async () => {
      for await (const event of events) this.deliver(entry, event);
      if (!entry.abort.signal.aborted) throw new Error("the user's live stream ended");
    })().catch((error: unknown) => {
      // The user's stream broke: drop its sockets, whose clients resume by lastEventId.
      this.onError(error);
      if (this.users.get(entry.userId) === entry) this.users.delete(entry.userId);
      for (const subscriber of [...entry.subscribers]) this.fail(subscriber);
    });
  }

  private deliver(entry: UserEntry, event: OpsEvent): void {
    let frames: Frames | null = null;
    for (const subscriber of entry.subscribers) {
      if (subscriber.ended) continue;
      if (!subscriber.live || subscriber.catchingUp || subscriber.queue.length > 0) {
        subscriber.queue.push(event);
        continue;
      }
      frames ??= new Frames(event.ops);
      try {
        this.apply(subscriber, event, frames);
      } catch (error) {
        this.onError(error);
        this.fail(subscriber);
      }
    }
  }

  /** Writes the event's ops the subscriber does not have yet, or sends it to the database. */
  apply(subscriber: Subscriber, event: OpsEvent, frames: Frames): void {
    if (event.afterId > subscriber.cursor) {
      this.catchUp(subscriber);
      return;
    }
    this.write(subscriber, event.ops, frames);
  }

  /** Writes ops past the subscriber's cursor; false when it was dropped as too slow. */
  private write(subscriber: Subscriber, ops: SyncOp[], frames: Frames): boolean {
    const { socket } = subscriber;
    const prefix = subscriber.prefix as string;
    let delivered = 0;
    try {
      for (let index = 0; index < ops.length; index++) {
        const op = ops[index] as SyncOp;
        if (op.id <= subscriber.cursor) continue;
        // Closing: the close ends the subscriber.
        if (socket.readyState !== OPEN) return false;
        if (socket.bufferedAmount > subscriber.slowConsumerBytes) {
          this.metrics.slowConsumerDisconnected();
          socket.close(SLOW_CONSUMER_CLOSE_CODE, "slow consumer: reconnect with lastEventId");
          subscriber.end();
          return false;
        }
        socket.sendFrame(frames.frame(prefix, index));
        subscriber.cursor = op.id;
        delivered++;
      }
      return true;
    } finally {
      if (delivered > 0) this.metrics.fanoutDelivered(delivered);
    }
  }

  /** A gap: reads the database from the subscriber's cursor, then goes on with its queue. */
  private catchUp(subscriber: Subscriber): void {
    subscriber.catchingUp = true;
    // Events queued so far are older than what the database will give: each is either read
    // again there or skipped by id, so the queue restarts empty.
    subscriber.queue = [];
    void (async () => {
      for (;;) {
        const page = await this.readAfter(subscriber.entry.userId, subscriber.cursor);
        if (subscriber.ended) return;
        if (!this.write(subscriber, page.ops, new Frames(page.ops))) return;
        if (!page.more) break;
      }
      subscriber.catchingUp = false;
      subscriber.drain();
    })().catch((error: unknown) => {
      this.onError(error);
      this.fail(subscriber);
    });
  }

  /** The subscriber cannot go on: its socket is closed, and its client resumes elsewhere. */
  private fail(subscriber: Subscriber): void {
    subscriber.socket.close(FANOUT_FAILED_CLOSE_CODE, "live stream interrupted: reconnect");
    subscriber.end();
  }
}
