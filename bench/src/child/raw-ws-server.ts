import { WebSocketServer } from "ws";
import { wallClockMs } from "../progress.js";
import { childConfig, serveParent } from "./ipc.js";

/**
 * The baseline server: a bare `ws` server, the same library and limits the sync server uses,
 * with no protocol, no auth and no database. `broadcast` sends one message `rate` times a
 * second for `durationMs`, each stamped with the wall clock just before it goes, to a group of
 * `groupSize` sockets (the sockets in connection order, cut into groups; message n goes to
 * group n mod groups) — one group of all sockets when groupSize is not given.
 */
export interface RawWsChildConfig {
  maxPayload: number;
}

interface BroadcastRequest {
  /** The message, with STAMP standing for the send time and SEQ for the sequence number. */
  template: string;
  rate: number;
  durationMs: number;
  groupSize?: number;
}

const config = childConfig<RawWsChildConfig>();
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: config.maxPayload });
await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
const address = wss.address();
const port = address !== null && typeof address === "object" ? address.port : 0;

async function broadcast(request: BroadcastRequest): Promise<{ sent: number; sockets: number }> {
  const count = Math.round((request.rate * request.durationMs) / 1000);
  const period = 1000 / request.rate;
  const start = performance.now();
  const sockets = [...wss.clients];
  const size = request.groupSize ?? sockets.length;
  const groups: (typeof sockets)[] = [];
  for (let start = 0; start < sockets.length; start += size) {
    groups.push(sockets.slice(start, start + size));
  }
  let sent = 0;
  for (let seq = 0; seq < count; seq++) {
    const due = start + seq * period;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const message = request.template
      .replace("SEQ", String(seq))
      .replace("STAMP", wallClockMs().toFixed(3));
    for (const socket of groups[seq % groups.length] ?? []) socket.send(message);
    sent++;
  }
  return { sent, sockets: wss.clients.size };
}

serveParent(
  port,
  {
    broadcast: (request) => broadcast(request as unknown as BroadcastRequest),
    sockets: async () => wss.clients.size,
  },
  async () => {
    for (const socket of wss.clients) socket.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  },
);
