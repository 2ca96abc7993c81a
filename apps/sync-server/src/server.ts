import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type AppRouter,
  appRouter,
  BlobService,
  type BlobSettings,
  type BlobStore,
  type Bus,
  type CompactionSettings,
  type Context,
  createServices,
  DEFAULT_BLOB_SETTINGS,
  internalErrorId,
  type Principal,
  type RateLimitConfig,
  type ResourceBounds,
  type SharedLimitStore,
  SLOW_CONSUMER_BUFFER_BYTES,
} from "@chorus/api";
import type { PrismaClient } from "@chorus/db";
import { MAX_SOCKET_MESSAGE_BYTES, PROTOCOL_VERSION_HEADER } from "@chorus/protocol";
import type { TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { type WebSocket, WebSocketServer } from "ws";
import { createBlobHandler, isBlobPath } from "./blobs-http.js";
import { type RequestWithBody, readBody, sendInOneWrite, wantsStream } from "./http-body.js";
import { sendTRPCError } from "./http-errors.js";
import type { Logger } from "./logger.js";
import { createMetrics } from "./metrics.js";
import { createSingleCallHandler } from "./single-call.js";
import { ServerSocket, startKeepAliveSweep, TokenExpiries } from "./socket.js";
import { createSharedValueEncoder } from "./ws-encoder.js";

/** Verifies an access token; throws an Error whose message says why it was refused. */
export type TokenVerifier = (token: string) => Promise<Principal>;

export interface SyncServerDeps {
  prisma: PrismaClient;
  /** For compaction's cross-replica lock; without it compaction cannot run on this server. */
  databaseUrl?: string;
  compaction?: Partial<CompactionSettings>;
  logger: Logger;
  verifyToken: TokenVerifier;
  bus?: Bus;
  ackFlushIntervalMs?: number;
  /** One throughput sample per this many ms (default 1 min). */
  throughputSampleMs?: number;
  /** At most one devices.last_seen_at write per device in this many ms (default 60 s). */
  lastSeenThrottleMs?: number;
  rateLimits?: RateLimitConfig;
  /** Redis for the rate limits, shared by every replica; unset: counted in this process. */
  limitStore?: SharedLimitStore;
  /** Bytes queued on a subscriber's socket past which it is dropped (default 4 MiB). */
  slowConsumerBytes?: number;
  /** Browser origins (the web app) allowed to call over HTTP with CORS. */
  allowedOrigins?: string[];
  /** Pull page bytes, pushes in flight per user, subscriptions per socket. */
  bounds?: Partial<ResourceBounds>;
  /** Connection-level bounds (defaults: DEFAULT_CONNECTION_BOUNDS). */
  connections?: Partial<ConnectionBounds>;
  /** Where blobs live and their bounds; without it the /blobs endpoints answer 404. */
  blobs?: { store: BlobStore; settings?: Partial<BlobSettings> };
}

/** Bounds on connections, so idle or abusive clients cannot pile up sockets. */
export interface ConnectionBounds {
  /** A WebSocket that has not presented a valid token this long after opening is closed. */
  wsAuthTimeoutMs: number;
  /** Open WebSockets per device; a newer one past the bound is closed. */
  socketsPerDevice: number;
  /** A request whose headers have not all arrived this long after connecting is answered 408. */
  headersTimeoutMs: number;
  /** A WebSocket from which nothing arrived this long is sent a PING (tRPC's keep-alive). */
  pingMs: number;
  /** A WebSocket that sent nothing this long after its PING is terminated. */
  pongWaitMs: number;
}

export const DEFAULT_CONNECTION_BOUNDS: ConnectionBounds = {
  wsAuthTimeoutMs: 5_000,
  socketsPerDevice: 5,
  headersTimeoutMs: 10_000,
  pingMs: 30_000,
  pongWaitMs: 5_000,
};

export interface SyncServer {
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Flushes ACKs, tells WebSocket clients to reconnect elsewhere, then closes. */
  close(): Promise<void>;
  readonly services: ReturnType<typeof createServices>;
  /** The blob service (null when blobs are not configured), for garbage collection. */
  readonly blobs: BlobService | null;
}

/**
 * ws maxPayload: a frame larger than this closes the socket (1009) before it is read. Clients
 * send what would not fit over HTTP (MAX_SOCKET_MESSAGE_BYTES), so calls over the socket and
 * over HTTP are bounded alike: the socket's messages by this, request bodies by MAX_HTTP_BODY.
 */
export const MAX_WS_PAYLOAD = MAX_SOCKET_MESSAGE_BYTES;
/** HTTP request bodies larger than this are refused with PAYLOAD_TOO_LARGE. */
export const MAX_HTTP_BODY = MAX_SOCKET_MESSAGE_BYTES;

/**
 * The subscription named in a /trpc/ path (one procedure or a comma-separated batch), if any.
 * Subscriptions run on the WebSocket only: there a socket lives no longer than its token, closes
 * when its device is revoked and is dropped when it reads too slowly. Over HTTP (server-sent
 * events, or an answer buffered until the stream ends) none of that would hold, so such a request
 * is refused before tRPC runs anything.
 */
export function subscriptionIn(path: string): string | null {
  let names: string[];
  try {
    names = decodeURIComponent(path.slice("/trpc/".length)).split(",");
  } catch {
    return null;
  }
  const procedures = appRouter._def.procedures as unknown as Record<
    string,
    { _def: { type: string } }
  >;
  return (
    names.find(
      (name) => Object.hasOwn(procedures, name) && procedures[name]?._def.type === "subscription",
    ) ?? null
  );
}

/**
 * The server's first query, before it listens: proves the database is reachable, and loads what
 * Prisma loads on its first query (its query compiler, WebAssembly: ~70 MiB of RSS and ~9 MiB of
 * heap in this process), so that start-up pays it, not the first requests.
 */
export async function reachDatabase(prisma: PrismaClient): Promise<void> {
  await prisma.$queryRaw`SELECT 1`;
}

/** Whether tRPC's handler can make a URL of the request (it throws BAD_REQUEST otherwise). */
function hostParses(url: string, host: string | undefined): boolean {
  return URL.canParse(url, `http://${host ?? "localhost"}`);
}

function closeUnauthenticated(ws: WebSocket): void {
  ws.close(CLOSE_UNAUTHENTICATED, "no valid token: connect with a fresh one");
}

export const CLOSE_TOKEN_EXPIRED = 4001;
export const CLOSE_DEVICE_REVOKED = 4003;
/** No valid token within wsAuthTimeoutMs of opening. */
export const CLOSE_UNAUTHENTICATED = 4401;
/** The device already has socketsPerDevice sockets open. */
export const CLOSE_TOO_MANY_SOCKETS = 4429;

export function createSyncServer(deps: SyncServerDeps): SyncServer {
  const { prisma, logger } = deps;
  const metrics = createMetrics();
  const slowConsumerBytes = deps.slowConsumerBytes ?? SLOW_CONSUMER_BUFFER_BYTES;
  const services = createServices({
    prisma,
    ...(deps.databaseUrl ? { databaseUrl: deps.databaseUrl } : {}),
    ...(deps.compaction ? { compaction: deps.compaction } : {}),
    metrics: metrics.sync,
    ...(deps.bus ? { bus: deps.bus } : {}),
    ...(deps.ackFlushIntervalMs ? { ackFlushIntervalMs: deps.ackFlushIntervalMs } : {}),
    ...(deps.rateLimits ? { rateLimits: deps.rateLimits } : {}),
    ...(deps.limitStore ? { limitStore: deps.limitStore } : {}),
    ...(deps.bounds ? { bounds: deps.bounds } : {}),
    onAckFlushError: (error) => logger.error({ err: error }, "ACK flush failed; will retry"),
    onFanoutError: (error) =>
      logger.error({ err: error }, "fan-out failed; the sockets concerned were closed to resume"),
    onPublishError: (error, context) =>
      logger.error(
        { err: error, ...context },
        "publishing a committed push failed; the push succeeded, publishing is retried",
      ),
    ...(deps.lastSeenThrottleMs !== undefined
      ? { lastSeenThrottleMs: deps.lastSeenThrottleMs }
      : {}),
    onLastSeenError: (error) => logger.warn({ err: error }, "devices.last_seen_at write failed"),
    diagnostics: {
      onWriteError: (error) => logger.warn({ err: error }, "device telemetry write failed"),
    },
    throughput: {
      ...(deps.throughputSampleMs ? { intervalMs: deps.throughputSampleMs } : {}),
      onWriteError: (error) => logger.warn({ err: error }, "throughput sample write failed"),
    },
  });

  async function authenticate(
    token: string | undefined,
  ): Promise<Pick<Context, "principal" | "authError">> {
    if (!token) return { principal: null, authError: null };
    try {
      return { principal: await deps.verifyToken(token), authError: null };
    } catch (error) {
      return { principal: null, authError: `token refused: ${(error as Error).message}` };
    }
  }

  /** The details of an internal error go to the log, under the id its client was given. */
  function logInternalError({ error, path }: { error: TRPCError; path: string | undefined }): void {
    if (error.code !== "INTERNAL_SERVER_ERROR") return;
    logger.error(
      { err: error.cause ?? error, path, requestId: internalErrorId(error) },
      "trpc error",
    );
  }

  const blobs = deps.blobs
    ? new BlobService(prisma, deps.blobs.store, {
        ...DEFAULT_BLOB_SETTINGS,
        ...deps.blobs.settings,
      })
    : null;
  const handleBlobs = createBlobHandler({ blobs, services, authenticate: deps.verifyToken });

  async function httpContext(req: IncomingMessage): Promise<Context> {
    const header = req.headers.authorization;
    const token = header?.startsWith("Bearer ") ? header.slice(7) : undefined;
    const stated = req.headers[PROTOCOL_VERSION_HEADER];
    return {
      services,
      socket: null,
      slowConsumerBytes,
      protocolVersion: typeof stated === "string" ? stated : null,
      ...(await authenticate(token)),
    };
  }

  /** An internal error's answer names the id its details were logged under. */
  function headersFor(errors: TRPCError[]): Record<string, string> {
    const internal = errors.find((error) => error.code === "INTERNAL_SERVER_ERROR");
    return internal ? { "x-request-id": internalErrorId(internal) } : {};
  }

  // A single mutation (a push, an ACK over HTTP) skips tRPC's handler and its fetch-API round trip.
  const singleCall = createSingleCallHandler<Context>({
    router: appRouter,
    basePath: "/trpc/",
    createContext: httpContext,
    onError: logInternalError,
    headersFor,
  });

  const trpc = createHTTPHandler<AppRouter>({
    router: appRouter,
    basePath: "/trpc/",
    // The body is read by readBody below, bounded by MAX_HTTP_BODY (tRPC's own maxBodySize only
    // applies to a body it streams itself, which no call here is any more).
    middleware(req, res, next) {
      const request = req as RequestWithBody;
      // A single mutation's body was read (and its answer set up) in route, before this handler.
      if (request.body !== undefined || request.bodyError !== undefined) {
        return next(request.bodyError);
      }
      if (!wantsStream(req)) sendInOneWrite(res);
      if (req.method !== "POST") return next();
      readBody(request, MAX_HTTP_BODY).then(() => next(), next);
    },
    createContext: ({ req }) => httpContext(req),
    onError: logInternalError,
    responseMeta: ({ errors }) => ({ headers: headersFor(errors) }),
  });

  const connections = { ...DEFAULT_CONNECTION_BOUNDS, ...deps.connections };
  const http: Server = createServer(
    {
      headersTimeout: connections.headersTimeoutMs,
      // Node checks the header deadline on this interval (30 s by default, which would let a
      // slow client hold a socket three times longer than the setting says).
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, connections.headersTimeoutMs / 2)),
    },
    (req, res) => {
      route(req, res).catch((error: unknown) => {
        const requestId = randomUUID();
        logger.error({ err: error, url: req.url, requestId }, "request failed");
        if (res.headersSent) return void res.destroy();
        res.setHeader("x-request-id", requestId);
        sendTRPCError(res, {
          code: "INTERNAL_SERVER_ERROR",
          message: `internal error (request id ${requestId}); the details are in the server's log`,
        });
      });
    },
  );

  const allowedOrigins = new Set(deps.allowedOrigins ?? []);
  /** The web app's pages call the API from the browser with a bearer token (no cookies). */
  function cors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (origin && allowedOrigins.has(origin)) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("vary", "origin");
      res.setHeader(
        "access-control-allow-headers",
        `authorization, content-type, trpc-accept, x-trpc-source, ${PROTOCOL_VERSION_HEADER}`,
      );
      res.setHeader("access-control-allow-methods", "GET, POST, OPTIONS");
      res.setHeader("access-control-max-age", "600");
    }
    if (req.method !== "OPTIONS") return false;
    res.writeHead(204).end();
    return true;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (cors(req, res)) return;
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") return healthz(res);
    if (path === "/metrics") {
      res.writeHead(200, { "content-type": metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    if (path && isBlobPath(path)) return handleBlobs(req, res, path);
    if (path?.startsWith("/trpc/")) {
      const subscription = subscriptionIn(path);
      if (subscription) {
        req.resume();
        return sendTRPCError(res, {
          code: "METHOD_NOT_SUPPORTED",
          message: `${subscription} is a subscription: subscribe over the WebSocket (ws://<host>/trpc), not plain HTTP`,
          path: subscription,
        });
      }
      // A single mutation (a push, an ACK over HTTP) skips tRPC's handler (single-call.ts).
      // It writes its answer in one write itself; what it hands to tRPC's handler (a body over
      // the bound, a body that is not JSON) is answered in one write as there.
      const call = singleCall.match(req);
      if (call) {
        const request = req as RequestWithBody;
        try {
          await readBody(request, MAX_HTTP_BODY);
        } catch (error) {
          request.bodyError = error;
          sendInOneWrite(res);
          return trpc(req, res);
        }
        const answered = singleCall.answer(request, res, call);
        if (answered) return answered;
        sendInOneWrite(res);
      }
      return trpc(req, res);
    }
    res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
  }

  async function healthz(res: ServerResponse): Promise<void> {
    try {
      await prisma.$queryRaw`SELECT 1`;
      res
        .writeHead(200, { "content-type": "application/json" })
        .end('{"status":"ok","database":"ok"}');
    } catch (error) {
      logger.warn({ err: error }, "healthz: database unreachable");
      res
        .writeHead(503, { "content-type": "application/json" })
        .end('{"status":"unavailable","database":"unreachable"}');
    }
  }

  // Sockets per device, so a revocation can close them at once: the socket itself while the
  // device has one (nearly always), a Set from the second on.
  const socketsByDevice = new Map<string, ServerSocket | Set<ServerSocket>>();
  const socketsOf = (deviceId: string): Iterable<ServerSocket> => {
    const held = socketsByDevice.get(deviceId);
    return held === undefined ? [] : held instanceof Set ? held : [held];
  };
  const socketCount = (deviceId: string): number => {
    const held = socketsByDevice.get(deviceId);
    return held === undefined ? 0 : held instanceof Set ? held.size : 1;
  };
  function holdSocket(deviceId: string, socket: ServerSocket): void {
    const held = socketsByDevice.get(deviceId);
    if (held === undefined) socketsByDevice.set(deviceId, socket);
    else if (held instanceof Set) held.add(socket);
    else if (held !== socket) socketsByDevice.set(deviceId, new Set([held, socket]));
  }
  function dropSocket(deviceId: string, socket: ServerSocket): void {
    const held = socketsByDevice.get(deviceId);
    if (held === socket) socketsByDevice.delete(deviceId);
    else if (held instanceof Set) {
      held.delete(socket);
      if (held.size === 1)
        socketsByDevice.set(deviceId, held.values().next().value as ServerSocket);
      else if (held.size === 0) socketsByDevice.delete(deviceId);
    }
  }
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_WS_PAYLOAD,
    WebSocket: ServerSocket,
  });
  // One sweep for every socket, not tRPC's two timers per socket (re-armed on every message).
  const keepAlive = startKeepAliveSweep(wss.clients, connections);
  // One timer for every socket's token expiry: the socket lives no longer than its token, and
  // the client reconnects with a fresh one.
  const expiries = new TokenExpiries((socket) =>
    socket.close(CLOSE_TOKEN_EXPIRED, "token expired: reconnect with a fresh token"),
  );
  // tRPC's handler keeps the request it is given for the socket's whole life, and reads only its
  // url and host (whether connectionParams come first). It gets just those: the IncomingMessage
  // with its headers would cost every idle socket about 2 KiB more. The usual two (the same
  // path, a host that parses) share one object each instead of ~150 bytes per socket.
  const sharedRequests = new Map<string, IncomingMessage>(
    ["/trpc", "/trpc?connectionParams=1"].map((url) => [
      url,
      { url, headers: { host: "localhost" } } as IncomingMessage,
    ]),
  );
  function upgradeRequest(req: IncomingMessage): IncomingMessage {
    const shared = sharedRequests.get(req.url ?? "");
    if (shared && hostParses(req.url ?? "", req.headers.host)) return shared;
    return { url: req.url, headers: { host: req.headers.host } } as IncomingMessage;
  }
  http.on("upgrade", (req, socket, head) => {
    if ((req.url ?? "").split("?")[0] !== "/trpc") {
      socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
      return;
    }
    const upgraded = upgradeRequest(req);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, upgraded));
  });

  // A socket must present a valid token soon after opening; one that never does (no
  // connectionParams, a refused token) would otherwise hold its memory until the client leaves.
  // The timer is cleared once the socket is authenticated (track), so an idle authenticated
  // socket keeps no timer for it; one that closes before fires later on a closed socket, which
  // does nothing.
  wss.on("connection", (ws: WebSocket) => {
    const socket = ws as ServerSocket;
    socket.authTimer = setTimeout(closeUnauthenticated, connections.wsAuthTimeoutMs, socket);
    socket.authTimer.unref();
  });

  /** What an authenticated socket leaves behind when it closes (ServerSocket.whenClosed). */
  function untrack(socket: ServerSocket): void {
    expiries.remove(socket);
    const principal = socket.principal;
    const deviceId = principal?.deviceId;
    if (!principal || !deviceId) return;
    if (socket.connectedAt !== 0) services.diagnostics.socketClosed(deviceId, socket.connectedAt);
    dropSocket(deviceId, socket);
    services.presence.disconnected(deviceId);
    services.acks
      .flush({ userId: principal.userId, deviceId })
      .catch((error: unknown) =>
        logger.error({ err: error, deviceId }, "ACK flush on disconnect failed"),
      );
  }

  function track(ws: WebSocket, principal: Principal): void {
    const deviceId = principal.deviceId;
    if (deviceId && socketCount(deviceId) >= connections.socketsPerDevice) {
      ws.close(
        CLOSE_TOO_MANY_SOCKETS,
        `this device already has ${connections.socketsPerDevice} connections open`,
      );
      return;
    }
    const socket = ws as ServerSocket;
    clearTimeout(socket.authTimer ?? undefined);
    socket.authTimer = null;
    socket.principal = principal;
    expiries.add(socket, principal.expiresAt.getTime());
    if (deviceId) {
      holdSocket(deviceId, socket);
      services.presence.connected(deviceId);
      socket.connectedAt = services.diagnostics.socketOpened(deviceId);
    }
    socket.whenClosed = untrack;
  }

  const wsHandler = applyWSSHandler<AppRouter>({
    wss,
    router: appRouter,
    async createContext({ res: ws, info }) {
      const raw = info.connectionParams?.token;
      const auth = await authenticate(typeof raw === "string" ? raw : undefined);
      if (auth.principal) track(ws, auth.principal);
      const stated = info.connectionParams?.protocol;
      return {
        services,
        socket: ws,
        slowConsumerBytes,
        protocolVersion: typeof stated === "string" ? stated : null,
        ...auth,
      };
    },
    onError: logInternalError,
    // A pushed op reaching several sockets is encoded once, not once per socket.
    experimental_encoder: createSharedValueEncoder(),
  });

  const stopControl = services.bus.onControl((event) => {
    if (event.type !== "device_revoked") return;
    for (const ws of socketsOf(event.deviceId)) {
      ws.close(CLOSE_DEVICE_REVOKED, "device revoked");
    }
  });

  metrics.observe(services, () => wss.clients.size, services.presence);
  services.start();

  return {
    services,
    blobs,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const onError = (error: NodeJS.ErrnoException) => reject(error);
        http.once("error", onError);
        http.listen(port, host, () => {
          http.off("error", onError);
          resolve(http.address() as AddressInfo);
        });
      });
    },
    async close() {
      stopControl();
      keepAlive.stop();
      expiries.stop();
      wsHandler.broadcastReconnectNotification();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const client of wss.clients) client.terminate();
      await services.stop();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
