import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy in front of the sync server for one failure: "the push was stored, but the
 * answer never arrived". When armed, the first HTTP request whose bytes mention `sync.push`
 * is forwarded, and the connection is cut as soon as the server starts answering.
 */
export class CuttingProxy {
  private armed = false;
  private readonly sockets = new Set<Socket>();
  cuts = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: () => number): Promise<CuttingProxy> {
    let proxy: CuttingProxy | undefined;
    const server = createServer((client) => {
      const upstream = connect(targetPort(), "127.0.0.1");
      proxy?.track(client, upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (!address || typeof address === "string") throw new Error("proxy has no port");
    proxy = new CuttingProxy(server, address.port);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Cut the answer of the next push. */
  cutNextPushAnswer(): void {
    this.armed = true;
  }

  private track(client: Socket, upstream: Socket): void {
    this.sockets.add(client);
    this.sockets.add(upstream);
    let pushInFlight = false;
    client.on("data", (chunk: Buffer) => {
      if (this.armed && chunk.includes("sync.push")) {
        this.armed = false;
        pushInFlight = true;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (pushInFlight) {
        this.cuts += 1;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
