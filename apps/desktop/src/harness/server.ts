import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { extname, join, normalize } from "node:path";
import { fileTokenStore, tokenClaims } from "@chorus/desktop-sync";
import { EngineHost } from "../main/engine.js";
import { createHandlers } from "../main/handlers.js";
import { invokeHandler } from "../main/ipc-dispatch.js";
import type { Logger } from "../main/log.js";
import { isIpcChannel } from "../shared/ipc-channels.js";
import { readHarnessEnv } from "./env.js";

/*
 * The desktop dev harness: the real renderer in a normal browser, backed by a real headless
 * engine. It serves the browser build of the renderer (out/harness, `npm run build`) and
 * answers POST /api/<channel> with the same handlers and payload validation Electron's IPC
 * uses, so Playwright can drive the real UI. Development and tests only: it listens on
 * 127.0.0.1 and accepts calls only from its own origin.
 */

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
};

const log: Logger = {
  info: (message, context) => console.error(JSON.stringify({ level: "info", message, ...context })),
  warn: (message, context) => console.error(JSON.stringify({ level: "warn", message, ...context })),
  error: (message, context) =>
    console.error(JSON.stringify({ level: "error", message, ...context })),
};

async function main(): Promise<void> {
  const env = readHarnessEnv(process.env);
  const staticDir = join(import.meta.dirname, "../../out/harness");
  if (!existsSync(join(staticDir, "harness.html"))) {
    throw new Error(
      `no browser build in ${staticDir}: run \`npm run build -w @chorus/desktop\` first`,
    );
  }
  let signInUrl: string | null = null;
  const host = await EngineHost.open({
    dataDir: env.CHORUS_DATA_DIR,
    profile: env.CHORUS_PROFILE,
    tokenStore: fileTokenStore,
    // No system browser here: the URL is kept for the test (GET /harness/sign-in-url).
    openUrl: (url) => {
      signInUrl = url;
      log.info("sign-in URL", { url });
    },
    defaultWebUrl: env.CHORUS_WEB_URL,
    platform: process.platform,
    appVersion: "0.1.0-harness",
    callsOverSocket: env.CHORUS_DEV_UPLOADS === "socket",
    hostName: env.CHORUS_HOST_NAME ?? hostname(),
    log: (message, context) => log.info(message, context),
  });
  if (env.CHORUS_DEV_TOKEN && env.CHORUS_DEV_SYNC_URL && !host.engine.account()) {
    // Before the web sign-in is available in a test: bind with a token the test minted.
    const claims = tokenClaims(env.CHORUS_DEV_TOKEN);
    await host.engine.bindWithToken({
      syncUrl: env.CHORUS_DEV_SYNC_URL,
      token: env.CHORUS_DEV_TOKEN,
      ...claims,
    });
  }
  const handlers = createHandlers(host);

  const server = createServer((req, res) => {
    void route(req, res).catch((error: unknown) => {
      log.error("harness request failed", { url: req.url, error: String(error) });
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  let origin = "";

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (req.method === "POST" && path.startsWith("/api/")) {
      if (req.headers.origin !== origin) {
        res
          .writeHead(403, { "content-type": "application/json" })
          .end('{"error":"foreign origin"}');
        return;
      }
      const channel = decodeURIComponent(path.slice("/api/".length));
      if (!isIpcChannel(channel)) {
        res
          .writeHead(404, { "content-type": "application/json" })
          .end('{"error":"no such channel"}');
        return;
      }
      let body = "";
      for await (const chunk of req) body += chunk;
      const args = body === "" ? [] : [JSON.parse(body) as unknown];
      const result = await invokeHandler(channel, args, { handlers, log });
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(result));
      return;
    }
    if (req.method === "GET" && path === "/harness/sign-in-url") {
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ url: signInUrl }));
      return;
    }
    if (req.method !== "GET") {
      res.writeHead(405).end();
      return;
    }
    const file = normalize(join(staticDir, path === "/" ? "harness.html" : path));
    if (!file.startsWith(staticDir) || !existsSync(file)) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  }

  await new Promise<void>((resolve) => server.listen(env.HARNESS_PORT, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  // The one line on stdout: tests wait for it.
  console.log(
    JSON.stringify({ harness: "listening", url: origin, profile: host.engine.profileName }),
  );

  const stop = async () => {
    server.closeAllConnections();
    server.close();
    await host.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());
}

main().catch((error: unknown) => {
  console.error(
    `chorus desktop harness: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
