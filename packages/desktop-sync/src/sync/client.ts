import type { AppRouter } from "@chorus/api";
import {
  MAX_SOCKET_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  PROTOCOL_VERSION_HEADER,
} from "@chorus/protocol";
import {
  createTRPCClient,
  createWSClient,
  httpLink,
  type Operation,
  splitLink,
  type TRPCClient,
  TRPCClientError,
  type TRPCLink,
  wsLink,
} from "@trpc/client";
import { observable } from "@trpc/server/observable";
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
  /**
   * Send pushes, ACKs and telemetry reports over the device's WebSocket, beside its
   * subscription (default true): one socket per device carries its whole conversation with
   * the server. A one-off client (the CLI asking for a diagnosis, a key action while the
   * engine is not syncing) sends them over HTTP, so asking does not open a socket and look
   * online.
   */
  callsOverSocket?: boolean;
  onSocketOpen?(): void;
  onSocketClose?(code: number | undefined): void;
}

/**
 * An HTTP answer that is not the sync server's JSON: an error page of a proxy in front of it
 * (a body-size limit's 413, a filter's 400, a gateway's 502). tRPC cannot read such a body, and
 * without this its status would be lost and the failure taken for "offline" (retried forever);
 * classifyFailure judges it by its status instead.
 */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    statusText: string,
  ) {
    super(
      `HTTP ${status}${statusText ? ` ${statusText}` : ""}, answered by the server's address without a sync server answer (a proxy in front of it?)`,
    );
    this.name = "HttpStatusError";
  }
}

/** fetch, with a non-JSON error answer turned into an HttpStatusError. */
async function fetchWithStatus(
  input: Parameters<typeof fetch>[0],
  init?: Parameters<typeof fetch>[1],
): Promise<Response> {
  const response = await fetch(input, init);
  const json = (response.headers.get("content-type") ?? "").includes("json");
  if (response.status >= 400 && !json) {
    await response.body?.cancel().catch(() => {});
    throw new HttpStatusError(response.status, response.statusText);
  }
  return response;
}

export function defaultReconnectDelay(attempt: number): number {
  const ceiling = Math.min(10_000, 250 * 2 ** attempt);
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** The calls a syncing device makes over its socket; pulls (pages of up to 4 MiB) use HTTP. */
const SOCKET_CALLS = new Set(["sync.push", "sync.ack", "diagnostics.report"]);

/** tRPC's envelope around a call's input on the socket, with room to spare. */
const ENVELOPE_BYTES = 256;

/**
 * Whether a call's message fits the socket's bound. The server closes a socket that sends a
 * larger frame without reading it (no typed answer is possible), so such a call goes over HTTP,
 * where an oversized push is answered `payload_too_large` and the drain halves its batch.
 */
export function fitsSocket(input: unknown): boolean {
  const encoded = JSON.stringify(input);
  return (
    encoded === undefined || Buffer.byteLength(encoded) + ENVELOPE_BYTES <= MAX_SOCKET_MESSAGE_BYTES
  );
}

/**
 * Whether the socket failed and is waiting to reconnect. Calls then go over HTTP instead: the
 * server may be down (HTTP fails as offline just the same, and the caller's backoff decides
 * when to try again), or only the socket is refused (a proxy that passes HTTP but not
 * WebSockets), and the device's changes still upload.
 */
function socketDown(client: ReturnType<typeof createWSClient>): boolean {
  const state = client.connectionState.get();
  return state.state === "connecting" && state.error !== null && state.error !== undefined;
}

function overSocket(op: Operation, callsOverSocket: boolean): boolean {
  if (op.type === "subscription") return true;
  if (!callsOverSocket || !SOCKET_CALLS.has(op.path)) return false;
  return op.path !== "sync.push" || fitsSocket(op.input);
}

/**
 * Calls over the socket fail as HTTP calls would:
 * - while the socket is down (reconnecting after it closed) calls go over HTTP (socketDown);
 *   one routed here as the socket fell fails at once as offline, as an HTTP request to an
 *   unreachable server does, instead of waiting for the socket (the caller's backoff, not the
 *   socket's, decides when to try again);
 * - a call answered UNAUTHORIZED closes the socket: its connection was authenticated with a
 *   token the server refused (the principal is fixed per connection), so asking again on it
 *   cannot help; the next call or the subscription reconnects with connectionParams read
 *   again, which carry the token refreshed after the 401.
 */
function socketCalls(client: ReturnType<typeof createWSClient>): TRPCLink<AppRouter> {
  return () =>
    ({ next, op }) =>
      observable((observer) => {
        const down = (error: { message: string }) =>
          observer.error(
            TRPCClientError.from(
              new Error(`the socket to the sync server is down (${error.message})`),
            ),
          );
        const state = client.connectionState.get();
        if (op.type !== "subscription" && state.state === "connecting" && state.error) {
          down(state.error);
          return () => {};
        }
        // A call waiting for the socket to open fails as soon as opening it fails, instead of
        // waiting in the queue for a connection that may never come (a proxy refusing upgrades).
        const watch =
          op.type === "subscription"
            ? null
            : client.connectionState.subscribe({
                next: (next) => {
                  if (next.state === "connecting" && next.error) down(next.error);
                },
              });
        const call = next(op).subscribe({
          next: (value) => observer.next(value),
          complete: () => observer.complete(),
          error: (error) => {
            const code = (error.data as { code?: unknown } | undefined)?.code;
            const connection = client.connection;
            if (code === "UNAUTHORIZED" && connection?.state === "open") connection.ws.close();
            observer.error(error);
          },
        });
        return () => {
          watch?.unsubscribe();
          call.unsubscribe();
        };
      });
}

/**
 * The typed client. A syncing device speaks over one WebSocket: its subscription, its pushes,
 * its ACKs and its telemetry (see SOCKET_CALLS); the rest (pulls, key actions, the console's
 * queries) and one-off clients use HTTP. Every call states this build's protocol version
 * (header / connectionParams). Both read the token from the session on every request /
 * (re)connection, so a refreshed token is used as soon as there is one: the server closes a
 * socket when its token expires, and the reconnect re-reads connectionParams.
 *
 * A call over the socket fails like an HTTP call whose answer was lost when the socket drops
 * with it in flight (tRPC's wsClient errors it; it is never re-sent by the client): the engine's
 * one retry policy (call-server.ts) decides, and a re-sent push carries the same operation ids.
 */
export function createSyncClient(
  session: SyncSession,
  options: SyncClientOptions = {},
): SyncClient {
  const base = session.syncUrl.replace(/\/+$/, "");
  const protocol = String(options.protocolVersion ?? PROTOCOL_VERSION);
  const callsOverSocket = options.callsOverSocket ?? true;
  const ws = createWSClient({
    url: `${base.replace(/^http/, "ws")}/trpc`,
    WebSocket: WebSocketImpl,
    connectionParams: async () => ({ token: await session.accessToken(), protocol }),
    retryDelayMs: options.retryDelayMs ?? defaultReconnectDelay,
    keepAlive: { enabled: true, intervalMs: options.keepAliveMs ?? 15_000, pongTimeoutMs: 5_000 },
    // Opened by the first call that needs it, not by HTTP-only use (a one-off client).
    lazy: { enabled: true, closeMs: 2_000 },
    onOpen: () => options.onSocketOpen?.(),
    onClose: (cause) => options.onSocketClose?.(cause?.code),
  });
  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) =>
          overSocket(op, callsOverSocket) && (op.type === "subscription" || !socketDown(ws)),
        true: [socketCalls(ws), wsLink({ client: ws })],
        false: httpLink({
          url: `${base}/trpc`,
          fetch: fetchWithStatus,
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
