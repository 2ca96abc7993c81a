import type { AppRouter } from "@chorus/api";
import { PROTOCOL_VERSION, PROTOCOL_VERSION_HEADER } from "@chorus/protocol";
import {
  createTRPCClient,
  createWSClient,
  httpLink,
  splitLink,
  type TRPCClient,
  wsLink,
} from "@trpc/client";
import { WebSocket as NodeWebSocket } from "ws";
import type { SyncSession } from "./session.js";

// Node 20 has no global WebSocket; ws is API-compatible with what tRPC's client needs.
const WebSocketImpl = NodeWebSocket as unknown as typeof globalThis.WebSocket;

export interface SyncClient {
  readonly trpc: TRPCClient<AppRouter>;
  close(): Promise<void>;
}

export interface SyncClientOptions {
  /** Reconnect delay of the WebSocket by attempt (default: 250 ms doubling to 10 s, jittered). */
  retryDelayMs?: (attempt: number) => number;
  /** Ping interval of the client's keep-alive; a missing pong closes and reconnects. */
  keepAliveMs?: number;
  /** The protocol version stated to the server (default PROTOCOL_VERSION). */
  protocolVersion?: number;
  onSocketOpen?(): void;
  onSocketClose?(code: number | undefined): void;
}

export function defaultReconnectDelay(attempt: number): number {
  const ceiling = Math.min(10_000, 250 * 2 ** attempt);
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/**
 * The typed client: subscriptions over one WebSocket, everything else over HTTP. Every call
 * states this build's protocol version (header / connectionParams). Both read
 * the token from the session on every request / (re)connection, so a refreshed token is
 * used as soon as there is one: the server closes a socket when its token expires, and the
 * reconnect re-reads connectionParams.
 */
export function createSyncClient(
  session: SyncSession,
  options: SyncClientOptions = {},
): SyncClient {
  const base = session.syncUrl.replace(/\/+$/, "");
  const protocol = String(options.protocolVersion ?? PROTOCOL_VERSION);
  const ws = createWSClient({
    url: `${base.replace(/^http/, "ws")}/trpc`,
    WebSocket: WebSocketImpl,
    connectionParams: async () => ({ token: await session.accessToken(), protocol }),
    retryDelayMs: options.retryDelayMs ?? defaultReconnectDelay,
    keepAlive: { enabled: true, intervalMs: options.keepAliveMs ?? 15_000, pongTimeoutMs: 5_000 },
    // Opened by the first subscription, not by HTTP-only use (server-connected writes, acks).
    lazy: { enabled: true, closeMs: 2_000 },
    onOpen: () => options.onSocketOpen?.(),
    onClose: (cause) => options.onSocketClose?.(cause?.code),
  });
  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: wsLink({ client: ws }),
        false: httpLink({
          url: `${base}/trpc`,
          headers: async () => ({
            authorization: `Bearer ${await session.accessToken()}`,
            [PROTOCOL_VERSION_HEADER]: protocol,
          }),
        }),
      }),
    ],
  });
  return { trpc, close: () => ws.close() };
}
