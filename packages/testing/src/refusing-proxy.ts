import {
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from "node:http";
import { connect, type Socket } from "node:net";

/**
 * An HTTP proxy in front of a server that refuses the requests whose body matches a rule, as a
 * filtering reverse proxy does (a web application firewall rule answering 400 to a body that
 * looks like script). WebSocket upgrades are passed through, or, with `refuseWebSockets`,
 * refused (403), as a proxy does that cannot inspect what a socket carries: a device behind it
 * then makes every call over HTTP, where the rule applies. Tests use it to
 * have a real request refused for good and then to fix the cause: `rule = null` lets
 * everything through again.
 */
export class RefusingProxy {
  /** Requests whose body this accepts are refused with `status`; null: none are. */
  rule: ((body: string) => boolean) | null;
  /** How many requests were refused. */
  refused = 0;
  /**
   * WebSocket upgrades are refused (403) while true; tests set it false to let them through
   * from then on (the proxy's policy changed, or the device moved to another network).
   */
  refuseWebSockets: boolean;
  /** How many WebSocket upgrades were refused. */
  refusedUpgrades = 0;
  /** HTTP requests received (refused or passed on), by path without the query (`/trpc/sync.pull`). */
  readonly forwarded = new Map<string, number>();
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    rule: ((body: string) => boolean) | null,
    private readonly status: number,
    refuseWebSockets: boolean,
  ) {
    this.rule = rule;
    this.refuseWebSockets = refuseWebSockets;
  }

  /** Starts on 127.0.0.1 (a free port) in front of `target` (`http://host:port`). */
  static async start(
    target: string,
    rule: ((body: string) => boolean) | null,
    options: { status?: number; refuseWebSockets?: boolean } = {},
  ): Promise<RefusingProxy> {
    const status = options.status ?? 400;
    const upstream = new URL(target);
    let proxy: RefusingProxy | undefined;
    const server = createServer((req, res) => proxy?.forward(upstream, req, res));
    server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
      if (proxy?.refuseWebSockets) {
        proxy.refusedUpgrades += 1;
        socket.end("HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
        return;
      }
      proxy?.tunnel(upstream, req, socket, head);
    });
    server.on("connection", (socket: Socket) => proxy?.track(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (!address || typeof address === "string") throw new Error("proxy has no port");
    proxy = new RefusingProxy(
      server,
      address.port,
      rule,
      status,
      options.refuseWebSockets ?? false,
    );
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  }

  private forward(upstream: URL, req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "").split("?")[0] ?? "";
    this.forwarded.set(path, (this.forwarded.get(path) ?? 0) + 1);
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (this.rule?.(body.toString())) {
        this.refused += 1;
        res.writeHead(this.status, { "content-type": "text/html", connection: "close" });
        res.end("<html><body><h1>Request refused by a proxy rule</h1></body></html>\n");
        return;
      }
      const outgoing = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      outgoing.on("error", () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      outgoing.end(body);
    });
  }

  private tunnel(upstream: URL, req: IncomingMessage, socket: Socket, head: Buffer): void {
    this.track(socket);
    const target = connect(Number(upstream.port), upstream.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      }
      target.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length > 0) target.write(head);
      socket.pipe(target).pipe(socket);
    });
    this.track(target);
    target.on("close", () => socket.destroy());
    socket.on("close", () => target.destroy());
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
