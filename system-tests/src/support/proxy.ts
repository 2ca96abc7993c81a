import { connect, createServer, type Server, type Socket } from "node:net";
import { WireAnswerReader, WireCallReader } from "@chorus/testing/wire";

/**
 * A TCP proxy in front of the sync server for one failure: "the push was stored, but the
 * answer never arrived". When armed, the next `sync.push` (an HTTP request, or a message on
 * the device's WebSocket) is forwarded, and its connection is cut as soon as the server
 * starts answering it (over the WebSocket: the frame carrying the answer to that message).
 */
export class CuttingProxy {
  private armed = false;
  private refuseAfterCut = false;
  /** New connections are refused (the device is offline) after a cut armed with `offline`. */
  refusing = false;
  private readonly sockets = new Set<Socket>();
  cuts = 0;
  /** How each cut push had travelled: over HTTP, or on the device's WebSocket. */
  readonly cutOver: Array<"http" | "ws"> = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: () => number): Promise<CuttingProxy> {
    let proxy: CuttingProxy | undefined;
    const server = createServer((client) => {
      if (proxy?.refusing) {
        client.destroy();
        return;
      }
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

  /**
   * Cut the answer of the next push. With `offline`, every open connection is cut at that
   * moment and new ones are refused, so the device cannot retry: its ops stay queued though
   * the server stored them.
   */
  cutNextPushAnswer(options: { offline?: boolean } = {}): void {
    this.armed = true;
    this.refuseAfterCut = options.offline ?? false;
  }

  private track(client: Socket, upstream: Socket): void {
    this.sockets.add(client);
    this.sockets.add(upstream);
    const calls = new WireCallReader();
    const answers = new WireAnswerReader();
    // The armed push on this connection: its WebSocket message id, or null over HTTP.
    let pushInFlight: { id: string | null; transport: "http" | "ws" } | null = null;
    client.on("data", (chunk: Buffer) => {
      for (const call of calls.read(chunk)) {
        if (this.armed && call.path === "sync.push") {
          this.armed = false;
          pushInFlight = { id: call.id, transport: call.transport };
        }
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      // Read every chunk, so the WebSocket frames stay in step.
      const answered = answers.read(chunk);
      const inFlight = pushInFlight;
      if (inFlight && answered.some((answer) => answer.id === inFlight.id)) {
        this.cuts += 1;
        this.cutOver.push(inFlight.transport);
        client.destroy();
        upstream.destroy();
        if (this.refuseAfterCut) {
          this.refusing = true;
          for (const socket of this.sockets) socket.destroy();
        }
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
