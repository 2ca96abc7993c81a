import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type AppRouter,
  appRouter,
  type Bus,
  type CompactionSettings,
  type Context,
  createServices,
  type Principal,
  type RateLimitConfig,
  SLOW_CONSUMER_BUFFER_BYTES,
} from "@chorus/api";
import type { PrismaClient } from "@chorus/db";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { type WebSocket, WebSocketServer } from "ws";
import { type RequestWithBody, readBody, sendInOneWrite, wantsStream } from "./http-body.js";
import type { Logger } from "./logger.js";
import { createMetrics } from "./metrics.js";

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
  rateLimits?: RateLimitConfig;
  /** Bytes queued on a subscriber's socket past which it is dropped (default 4 MiB). */
  slowConsumerBytes?: number;
  /** Browser origins (the web app) allowed to call over HTTP with CORS. */
  allowedOrigins?: string[];
}

export interface SyncServer {
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Flushes ACKs, tells WebSocket clients to reconnect elsewhere, then closes. */
  close(): Promise<void>;
  readonly services: ReturnType<typeof createServices>;
}

/** ws maxPayload: a frame larger than this closes the socket (1009). */
export const MAX_WS_PAYLOAD = 1024 * 1024;
/** HTTP request bodies larger than this are refused with PAYLOAD_TOO_LARGE. */
export const MAX_HTTP_BODY = 1024 * 1024;

export const CLOSE_TOKEN_EXPIRED = 4001;
export const CLOSE_DEVICE_REVOKED = 4003;

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
    onAckFlushError: (error) => logger.error({ err: error }, "ACK flush failed; will retry"),
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

  const trpc = createHTTPHandler<AppRouter>({
    router: appRouter,
    basePath: "/trpc/",
    // The body is read by readBody below, bounded by MAX_HTTP_BODY (tRPC's own maxBodySize only
    // applies to a body it streams itself, which no call here is any more).
    middleware(req, res, next) {
      if (!wantsStream(req)) sendInOneWrite(res);
      if (req.method !== "POST") return next();
      readBody(req as RequestWithBody, MAX_HTTP_BODY).then(() => next(), next);
    },
    async createContext({ req }) {
      const header = req.headers.authorization;
      const token = header?.startsWith("Bearer ") ? header.slice(7) : undefined;
      return { services, socket: null, slowConsumerBytes, ...(await authenticate(token)) };
    },
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") logger.error({ err: error, path }, "trpc error");
    },
  });

  const http: Server = createServer((req, res) => {
    void route(req, res);
  });

  const allowedOrigins = new Set(deps.allowedOrigins ?? []);
  /** The web app's pages call the API from the browser with a bearer token (no cookies). */
  function cors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (origin && allowedOrigins.has(origin)) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("vary", "origin");
      res.setHeader(
        "access-control-allow-headers",
        "authorization, content-type, trpc-accept, x-trpc-source",
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
    if (path?.startsWith("/trpc/")) return trpc(req, res);
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

  // Sockets per device, so a revocation can close them at once.
  const socketsByDevice = new Map<string, Set<WebSocket>>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_PAYLOAD });
  http.on("upgrade", (req, socket, head) => {
    if ((req.url ?? "").split("?")[0] !== "/trpc") {
      socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });

  function track(ws: WebSocket, principal: Principal): void {
    const deviceId = principal.deviceId;
    // The socket lives no longer than its token; the client reconnects with a fresh one.
    const expiry = setTimeout(
      () => ws.close(CLOSE_TOKEN_EXPIRED, "token expired: reconnect with a fresh token"),
      Math.max(0, principal.expiresAt.getTime() - Date.now()),
    );
    if (deviceId) {
      const set = socketsByDevice.get(deviceId) ?? new Set();
      set.add(ws);
      socketsByDevice.set(deviceId, set);
      services.presence.connected(deviceId);
    }
    ws.once("close", () => {
      clearTimeout(expiry);
      if (!deviceId) return;
      socketsByDevice.get(deviceId)?.delete(ws);
      if (socketsByDevice.get(deviceId)?.size === 0) socketsByDevice.delete(deviceId);
      services.presence.disconnected(deviceId);
      services.acks
        .flush({ userId: principal.userId, deviceId })
        .catch((error: unknown) =>
          logger.error({ err: error, deviceId }, "ACK flush on disconnect failed"),
        );
    });
  }

  const wsHandler = applyWSSHandler<AppRouter>({
    wss,
    router: appRouter,
    async createContext({ res: ws, info }) {
      const raw = info.connectionParams?.token;
      const auth = await authenticate(typeof raw === "string" ? raw : undefined);
      if (auth.principal) track(ws, auth.principal);
      return { services, socket: ws, slowConsumerBytes, ...auth };
    },
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 5_000 },
  });

  const stopControl = services.bus.onControl((event) => {
    if (event.type !== "device_revoked") return;
    for (const ws of socketsByDevice.get(event.deviceId) ?? []) {
      ws.close(CLOSE_DEVICE_REVOKED, "device revoked");
    }
  });

  metrics.observe(services, () => wss.clients.size, services.presence);
  services.start();

  return {
    services,
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
