import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type AppRouter, appRouter, type Context } from "@chorus/api";
import type { PrismaClient } from "@chorus/db";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { WebSocketServer } from "ws";
import type { Logger } from "./logger.js";

export interface SyncServerDeps {
  prisma: PrismaClient;
  logger: Logger;
}

export interface SyncServer {
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stops accepting, tells WebSocket clients to reconnect elsewhere, then closes. */
  close(): Promise<void>;
}

const MAX_WS_PAYLOAD = 1024 * 1024;

export function createSyncServer({ prisma, logger }: SyncServerDeps): SyncServer {
  const createContext = (): Context => ({ prisma });

  const trpc = createHTTPHandler<AppRouter>({
    router: appRouter,
    basePath: "/trpc/",
    createContext,
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") logger.error({ err: error, path }, "trpc error");
    },
  });

  const http: Server = createServer((req, res) => {
    void route(req, res);
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") return healthz(res);
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

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_PAYLOAD });
  http.on("upgrade", (req, socket, head) => {
    if ((req.url ?? "").split("?")[0] !== "/trpc") {
      socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });
  const wsHandler = applyWSSHandler<AppRouter>({
    wss,
    router: appRouter,
    createContext,
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 5_000 },
  });

  return {
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
      wsHandler.broadcastReconnectNotification();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
