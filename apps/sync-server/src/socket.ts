import { FANOUT_REGISTERED, type FanoutSocket } from "@chorus/api";
import { WebSocket } from "ws";

/**
 * The server's WebSocket class (ws's `WebSocket` option): ws's own, plus what the server keeps
 * per socket as plain fields rather than closures and timers — the keep-alive sweep's two
 * timestamps — and the fan-out's frame writer.
 *
 * `send` drops FANOUT_REGISTERED: that is what the encoder answers for the message by which a
 * subscription hands its socket to the fan-out (see packages/api/src/sync/fanout.ts), which has
 * nothing for the client to read.
 */
export class ServerSocket extends WebSocket implements FanoutSocket {
  /** Date.now() of the last message from the client (or of opening). */
  lastActivityAt = Date.now();
  /** Date.now() of the PING sent since that message; 0 when none is outstanding. */
  pingSentAt = 0;

  override send(data: unknown, options?: unknown, cb?: unknown): void {
    if (data === FANOUT_REGISTERED) {
      const done = typeof options === "function" ? options : cb;
      if (typeof done === "function") done();
      return;
    }
    // biome-ignore lint/suspicious/noExplicitAny: forwards ws's overloads unchanged
    (super.send as any)(data, options, cb);
  }

  /** Writes a frame the fan-out encoded once for several sockets, as a text message. */
  sendFrame(frame: Buffer): void {
    super.send(frame, { binary: false });
  }
}

/** Records client activity; one function for every socket (`this` is the socket). */
function markActive(this: WebSocket): void {
  const ws = this as ServerSocket;
  ws.lastActivityAt = Date.now();
  ws.pingSentAt = 0;
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
 * nothing arrives within pongWaitMs of it. The sweep runs every quarter of the shorter setting,
 * so a PING or a termination comes at most that much later than with per-socket timers.
 */
export function startKeepAliveSweep(
  sockets: Iterable<WebSocket>,
  settings: KeepAliveSettings,
): { watch(ws: ServerSocket): void; stop(): void } {
  const tickMs = Math.max(10, Math.min(settings.pingMs, settings.pongWaitMs) / 4);
  const timer = setInterval(() => {
    const now = Date.now();
    for (const client of sockets) {
      const ws = client as ServerSocket;
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (ws.pingSentAt !== 0) {
        if (now - ws.pingSentAt >= settings.pongWaitMs) ws.terminate();
      } else if (now - ws.lastActivityAt >= settings.pingMs) {
        ws.pingSentAt = now;
        ws.send("PING");
      }
    }
  }, tickMs);
  timer.unref();
  return {
    watch(ws) {
      ws.on("message", markActive);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
