import { FANOUT_REGISTERED, type FanoutSocket, type Principal, type Subscriber } from "@chorus/api";
import { WebSocket } from "ws";

/** The end of tRPC's "stopped" message for a subscription: `…,"result":{"type":"stopped"}}`. */
const STOPPED_SUFFIX = ',"result":{"type":"stopped"}}';
/** A client's stop message is small; a larger message is never parsed here. */
const STOP_MESSAGE_MAX_BYTES = 4_096;

interface StopMessage {
  id?: unknown;
  jsonrpc?: unknown;
  method?: unknown;
}

/**
 * The server's WebSocket class (ws's `WebSocket` option): ws's own, plus what the server keeps
 * per socket as plain fields rather than closures, listeners and timers: an idle socket holds
 * them for its whole life, ten thousand times over (docs/adr/0038-idle-socket-fields.md).
 *
 * - The keep-alive sweep's two timestamps (see startKeepAliveSweep), updated on every message.
 * - The authentication deadline's timer (cleared once a valid token arrived).
 * - Once authenticated: its principal, when it was recorded as connected, its place among the
 *   token expiries (TokenExpiries), and the server's handler for its close (`whenClosed`, one
 *   function shared by every socket, run after ws's and tRPC's own close listeners).
 * - The subscriptions handed off to the fan-out (packages/api/src/sync/fanout.ts), by tRPC
 *   message id. tRPC no longer knows them (their generator returned), so this socket stands in
 *   for it: it does not send tRPC's "stopped" for the hand-off (the subscription goes on),
 *   answers the client's `subscription.stop` for them as tRPC would (ends it, sends "stopped")
 *   without passing it on, and ends them when it closes (after `whenClosed`).
 * - `send` drops FANOUT_REGISTERED: what the encoder answers for the hand-off message.
 */
export class ServerSocket extends WebSocket implements FanoutSocket {
  /** Date.now() of the last message from the client (or of opening). */
  lastActivityAt = Date.now();
  /** Date.now() of the PING sent since that message; 0 when none is outstanding. */
  pingSentAt = 0;
  /** Closes the socket if no valid token arrives in time; null once it is authenticated. */
  authTimer: NodeJS.Timeout | null = null;
  /** The token's principal, once authenticated. */
  principal: Principal | null = null;
  /** The moment the device's socket was recorded as connected (ms; 0 when not recorded). */
  connectedAt = 0;
  /** When the token expires (ms since the epoch), and the socket's place in TokenExpiries. */
  expiresAt = 0;
  expiryIndex = -1;
  /** Runs once when the socket has closed, after ws's and tRPC's close listeners. */
  whenClosed: ((socket: ServerSocket) => void) | null = null;
  /**
   * Subscriptions served by the fan-out (each knows its message id); null until the first. A
   * socket holds one, rarely a few (ResourceBounds.subscriptionsPerSocket): a short array.
   */
  private adopted: Subscriber[] | null = null;

  adopt(id: number | string, subscriber: Subscriber): void {
    this.adoptedBy(id)?.end();
    this.adopted ??= [];
    this.adopted.push(subscriber);
  }

  release(id: number | string, subscriber: Subscriber): void {
    const adopted = this.adopted;
    if (!adopted) return;
    const index = adopted.indexOf(subscriber);
    if (index !== -1 && subscriber.id === id) adopted.splice(index, 1);
  }

  private adoptedBy(id: unknown): Subscriber | undefined {
    const adopted = this.adopted;
    if (!adopted) return undefined;
    for (const subscriber of adopted) if (subscriber.id === id) return subscriber;
    return undefined;
  }

  /** Ends every subscription the fan-out serves on this socket (it closed). */
  endAdopted(): void {
    const adopted = this.adopted;
    if (!adopted) return;
    this.adopted = null;
    for (const subscriber of adopted) subscriber.end();
  }

  override send(data: unknown, options?: unknown, cb?: unknown): void {
    if (data === FANOUT_REGISTERED || (typeof data === "string" && this.isHandOffStop(data))) {
      const done = typeof options === "function" ? options : cb;
      if (typeof done === "function") done();
      return;
    }
    // biome-ignore lint/suspicious/noExplicitAny: forwards ws's overloads unchanged
    (super.send as any)(data, options, cb);
  }

  /** tRPC's "stopped" for a subscription that the fan-out took over (and that goes on). */
  private isHandOffStop(data: string): boolean {
    if (!this.adopted?.length || !data.endsWith(STOPPED_SUFFIX)) return false;
    const { id } = JSON.parse(data) as { id?: number | string };
    return id !== undefined && this.adoptedBy(id) !== undefined;
  }

  /** Writes a frame the fan-out encoded once for several sockets, as a text message. */
  sendFrame(frame: Buffer | string): void {
    super.send(frame, { binary: false });
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === "message") {
      this.lastActivityAt = Date.now();
      this.pingSentAt = 0;
      if (this.adopted?.length) {
        const rest = this.stopAdopted(args[0], args[1] === true);
        if (rest === null) return true;
        args[0] = rest;
      }
    } else if (event === "close") {
      // In the order the listeners for these were once registered: ws's and tRPC's (at
      // connection), the server's (at authentication), the adopted subscriptions' (at hand-off).
      const listened = super.emit(event, ...args);
      const whenClosed = this.whenClosed;
      this.whenClosed = null;
      whenClosed?.(this);
      this.endAdopted();
      return listened;
    }
    return super.emit(event, ...args);
  }

  /**
   * Answers the client's `subscription.stop` of adopted subscriptions; what remains of the
   * message goes on to tRPC (null: nothing remains).
   */
  private stopAdopted(raw: unknown, isBinary: boolean): unknown {
    if (isBinary || !Buffer.isBuffer(raw) || raw.length > STOP_MESSAGE_MAX_BYTES) return raw;
    const text = raw.toString("utf8");
    if (!text.includes("subscription.stop")) return raw;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return raw;
    }
    const messages = (Array.isArray(parsed) ? parsed : [parsed]) as StopMessage[];
    const rest = messages.filter((message) => !this.stopOne(message));
    if (rest.length === messages.length) return raw;
    if (rest.length === 0) return null;
    return Buffer.from(JSON.stringify(rest.length === 1 ? rest[0] : rest));
  }

  private stopOne(message: StopMessage): boolean {
    if (message?.method !== "subscription.stop") return false;
    const id = message.id as number | string;
    const subscriber = this.adoptedBy(id);
    if (!subscriber) return false;
    subscriber.end();
    const rpc =
      message.jsonrpc === undefined ? "" : `,"jsonrpc":${JSON.stringify(message.jsonrpc)}`;
    this.sendFrame(`{"id":${JSON.stringify(id)}${rpc}${STOPPED_SUFFIX}`);
    return true;
  }
}

/** setTimeout's longest delay; a later expiry is reached by re-arming. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The authenticated sockets by the moment their token expires: one binary heap (each socket
 * knows its place, so a closed socket leaves it at once) and one timer for the earliest, in
 * place of a timer per socket (a Timeout, its closure, and a timer list per distinct delay:
 * ~300 bytes each). `expired` runs for a socket at its token's expiry, as that timer did.
 */
export class TokenExpiries {
  private readonly heap: ServerSocket[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private stopped = false;

  constructor(private readonly expired: (socket: ServerSocket) => void) {}

  get size(): number {
    return this.heap.length;
  }

  add(socket: ServerSocket, expiresAt: number): void {
    if (socket.expiryIndex !== -1) this.remove(socket);
    socket.expiresAt = expiresAt;
    socket.expiryIndex = this.heap.length;
    this.heap.push(socket);
    this.up(socket.expiryIndex);
    this.arm();
  }

  remove(socket: ServerSocket): void {
    const index = socket.expiryIndex;
    if (index === -1) return;
    socket.expiryIndex = -1;
    const last = this.heap.pop() as ServerSocket;
    if (index < this.heap.length) {
      this.place(last, index);
      this.down(index);
      this.up(last.expiryIndex);
    }
    if (index === 0) this.arm();
  }

  /** No expiry fires any more (the server is closing: its sockets are terminated). */
  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    const head = this.heap[0];
    if (!head || this.stopped) {
      this.disarm();
      return;
    }
    if (this.timer && this.timerAt === head.expiresAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = head.expiresAt;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, head.expiresAt - Date.now()));
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    const now = Date.now();
    for (let head = this.heap[0]; head && head.expiresAt <= now; head = this.heap[0]) {
      this.remove(head);
      this.expired(head);
    }
    this.arm();
  }

  private place(socket: ServerSocket, index: number): void {
    this.heap[index] = socket;
    socket.expiryIndex = index;
  }

  private up(index: number): void {
    const socket = this.heap[index] as ServerSocket;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = this.heap[parentIndex] as ServerSocket;
      if (parent.expiresAt <= socket.expiresAt) break;
      this.place(parent, index);
      index = parentIndex;
    }
    this.place(socket, index);
  }

  private down(index: number): void {
    const heap = this.heap;
    const socket = heap[index] as ServerSocket;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= heap.length) break;
      const right = child + 1;
      if (
        right < heap.length &&
        (heap[right] as ServerSocket).expiresAt < (heap[child] as ServerSocket).expiresAt
      ) {
        child = right;
      }
      const smaller = heap[child] as ServerSocket;
      if (smaller.expiresAt >= socket.expiresAt) break;
      this.place(smaller, index);
      index = child;
    }
    this.place(socket, index);
  }
}

export interface KeepAliveSettings {
  /** A socket from which nothing arrived this long is sent a PING. */
  pingMs: number;
  /** A socket that sent nothing this long after its PING is terminated. */
  pongWaitMs: number;
}

/**
 * tRPC's keep-alive, with one interval for the whole server instead of two timers per socket
 * re-armed on every message: the same text PING (tRPC's clients answer PONG; any message
 * counts as an answer), sent to a socket idle for pingMs, and the socket terminated when
 * nothing arrives within pongWaitMs of it. The sweep runs every quarter of the shorter setting.
 *
 * A socket past its deadline is terminated on the NEXT tick, if it is still silent then. After
 * the process stalled (a long GC, a starved CPU), Node runs due timers before it reads the
 * sockets: an answer that arrived during the stall is still unread when the late tick fires,
 * and a socket that did answer in time would be cut. Between two ticks the loop has read its
 * sockets. So a PING comes at most one tick late and a termination at most two.
 */
export function startKeepAliveSweep(
  sockets: Iterable<WebSocket>,
  settings: KeepAliveSettings,
): { stop(): void } {
  const tickMs = Math.max(10, Math.min(settings.pingMs, settings.pongWaitMs) / 4);
  // Sockets found past their deadline on the previous tick (normally none).
  let overdue: ServerSocket[] = [];
  const timer = setInterval(() => {
    const now = Date.now();
    for (const ws of overdue) {
      if (ws.readyState === WebSocket.OPEN && ws.pingSentAt !== 0) ws.terminate();
    }
    overdue = [];
    for (const client of sockets) {
      const ws = client as ServerSocket;
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (ws.pingSentAt !== 0) {
        if (now - ws.pingSentAt >= settings.pongWaitMs) overdue.push(ws);
      } else if (now - ws.lastActivityAt >= settings.pingMs) {
        ws.pingSentAt = now;
        ws.send("PING");
      }
    }
  }, tickMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
