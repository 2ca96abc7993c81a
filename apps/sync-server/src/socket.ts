import { FANOUT_REGISTERED, type FanoutSocket, type Subscriber } from "@chorus/api";
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
 * per socket as plain fields rather than closures and timers.
 *
 * - The keep-alive sweep's two timestamps (see startKeepAliveSweep), updated on every message.
 * - The authentication deadline's timer (cleared once a valid token arrived).
 * - The subscriptions handed off to the fan-out (packages/api/src/sync/fanout.ts), by tRPC
 *   message id. tRPC no longer knows them (their generator returned), so this socket stands in
 *   for it: it does not send tRPC's "stopped" for the hand-off (the subscription goes on),
 *   answers the client's `subscription.stop` for them as tRPC would (ends it, sends "stopped")
 *   without passing it on, and ends them when it closes.
 * - `send` drops FANOUT_REGISTERED: what the encoder answers for the hand-off message.
 */
export class ServerSocket extends WebSocket implements FanoutSocket {
  /** Date.now() of the last message from the client (or of opening). */
  lastActivityAt = Date.now();
  /** Date.now() of the PING sent since that message; 0 when none is outstanding. */
  pingSentAt = 0;
  /** Closes the socket if no valid token arrives in time; null once it is authenticated. */
  authTimer: NodeJS.Timeout | null = null;
  /** Subscriptions served by the fan-out, by message id; null until the first. */
  private adopted: Map<number | string, Subscriber> | null = null;

  adopt(id: number | string, subscriber: Subscriber): void {
    if (!this.adopted) {
      this.adopted = new Map();
      this.once("close", endAdopted);
    }
    this.adopted.get(id)?.end();
    this.adopted.set(id, subscriber);
  }

  release(id: number | string, subscriber: Subscriber): void {
    if (this.adopted?.get(id) === subscriber) this.adopted.delete(id);
  }

  /** Ends every subscription the fan-out serves on this socket (it closed). */
  endAdopted(): void {
    const adopted = this.adopted;
    if (!adopted) return;
    for (const subscriber of [...adopted.values()]) subscriber.end();
    adopted.clear();
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
    if (!this.adopted?.size || !data.endsWith(STOPPED_SUFFIX)) return false;
    const { id } = JSON.parse(data) as { id?: number | string };
    return id !== undefined && this.adopted.has(id);
  }

  /** Writes a frame the fan-out encoded once for several sockets, as a text message. */
  sendFrame(frame: Buffer | string): void {
    super.send(frame, { binary: false });
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === "message") {
      this.lastActivityAt = Date.now();
      this.pingSentAt = 0;
      if (this.adopted?.size) {
        const rest = this.stopAdopted(args[0], args[1] === true);
        if (rest === null) return true;
        args[0] = rest;
      }
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
    const subscriber = this.adopted?.get(id);
    if (!subscriber) return false;
    subscriber.end();
    const rpc =
      message.jsonrpc === undefined ? "" : `,"jsonrpc":${JSON.stringify(message.jsonrpc)}`;
    this.sendFrame(`{"id":${JSON.stringify(id)}${rpc}${STOPPED_SUFFIX}`);
    return true;
  }
}

function endAdopted(this: WebSocket): void {
  (this as ServerSocket).endAdopted();
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
