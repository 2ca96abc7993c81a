import { inWaves, wallClockMs } from "../progress.js";
import { connectRawSocket, connectTrpcSocket } from "../trpc-socket.js";
import { childConfig, serveParent } from "./ipc.js";

/**
 * A share of a socket-count bench's clients in a process of its own: one process may hold
 * only as many sockets as its open-files limit allows, so tens of thousands of sockets are
 * spread over several of these, each binding its sockets to a loopback address of its own
 * (one source address has ~28,000 ephemeral ports towards one server port). The parent sends
 * the tokens with `hold` (too many for a command line), then `drop`.
 */
export interface SocketClientConfig {
  localAddress: string;
}

const config = childConfig<SocketClientConfig>();
const CONCURRENCY = 100;
let sockets: { terminate(): void }[] = [];

serveParent(
  0,
  {
    /**
     * Opens one socket per token to `url`: with `subscribe`, a tRPC socket authenticated with
     * the token holding a live sync.subscribe (a connected desktop at rest); without, a plain
     * socket (the bare ws baseline; the tokens only count). Answers how many are open.
     */
    async hold(request) {
      const url = request.url as string;
      const tokens = request.tokens as string[];
      const subscribe = request.subscribe as boolean;
      const options = { localAddress: config.localAddress };
      const opened = await inWaves(tokens, CONCURRENCY, async (token) => {
        if (!subscribe) return connectRawSocket(url, () => {}, wallClockMs, 120_000, options);
        const socket = await connectTrpcSocket(url, token, wallClockMs, 120_000, options);
        await socket.subscribe("sync.subscribe", { lastEventId: 0 }, () => {}, 120_000);
        return socket;
      });
      sockets.push(...opened);
      return sockets.length;
    },
    async drop() {
      for (const socket of sockets) socket.terminate();
      const dropped = sockets.length;
      sockets = [];
      return dropped;
    },
  },
  async () => {
    for (const socket of sockets) socket.terminate();
  },
);
