import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy in front of one device's server connection (HTTP pushes and the WebSocket).
 * Each new connection goes to a live replica the harness names. Faults: drop every open
 * connection now; delay every chunk; half-open (connections stay open, nothing passes, then
 * they are cut); partition (every connection cut and new ones refused).
 */
export class FaultProxy {
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private delayMs = 0;
  private blackholeUntil = 0;
  private refuseUntil = 0;
  private healTimer: NodeJS.Timeout | null = null;
  private cutPushAnswer = false;
  /** Push answers cut after the server had them (armed by cutNextPushAnswer). */
  answersCut = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: () => number | null): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, target()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (!address || typeof address === "string") throw new Error("proxy has no port");
    proxy = new FaultProxy(server, address.port);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private accept(client: Socket, port: number | null): void {
    client.on("error", () => {});
    if (port === null || Date.now() < this.refuseUntil) {
      client.destroy();
      return;
    }
    const upstream = connect(port, "127.0.0.1");
    upstream.on("error", () => {});
    const pair = { client, upstream };
    this.pairs.add(pair);
    // A chunk is never written before an earlier one of the same direction (delays change).
    const forward = (to: Socket) => {
      let lastDue = 0;
      return (chunk: Buffer) => {
        const now = Date.now();
        if (now < this.blackholeUntil) return;
        const due = Math.max(now + this.delayMs, lastDue);
        lastDue = due;
        if (due > now) setTimeout(() => to.destroyed || to.write(chunk), due - now);
        else to.write(chunk);
      };
    };
    // "Stored, but the answer never arrived": the connection carrying an armed push is cut as
    // soon as the server starts answering it.
    let pushInFlight = false;
    const toUpstream = forward(upstream);
    const toClient = forward(client);
    client.on("data", (chunk: Buffer) => {
      if (this.cutPushAnswer && chunk.includes("sync.push")) {
        this.cutPushAnswer = false;
        pushInFlight = true;
      }
      toUpstream(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (pushInFlight) {
        this.answersCut++;
        client.destroy();
        upstream.destroy();
        return;
      }
      toClient(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on("close", end);
    upstream.on("close", end);
  }

  private cutAll(): void {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** The next push is forwarded and its answer cut: the device must retry it. */
  cutNextPushAnswer(): void {
    this.cutPushAnswer = true;
  }

  /** Cuts every open connection now (the engine reconnects). */
  drop(): void {
    this.cutAll();
  }

  delay(ms: number, forMs: number): void {
    this.delayMs = ms;
    this.scheduleHeal(forMs);
  }

  /** Open connections stay open but carry nothing for forMs, then are cut. */
  halfOpen(forMs: number): void {
    this.blackholeUntil = Date.now() + forMs;
    this.scheduleHeal(forMs);
  }

  /** Every connection cut, new ones refused, for forMs. */
  partition(forMs: number): void {
    this.refuseUntil = Date.now() + forMs;
    this.cutAll();
    this.scheduleHeal(forMs);
  }

  private scheduleHeal(forMs: number): void {
    if (this.healTimer) clearTimeout(this.healTimer);
    this.healTimer = setTimeout(() => this.heal(), forMs);
  }

  /** Back to a clean link. Connections that were black-holed are cut (their streams are torn). */
  heal(): void {
    if (this.healTimer) clearTimeout(this.healTimer);
    this.healTimer = null;
    const wasBlackholed = Date.now() < this.blackholeUntil || this.blackholeUntil > 0;
    this.delayMs = 0;
    this.refuseUntil = 0;
    this.cutPushAnswer = false;
    if (wasBlackholed) {
      this.blackholeUntil = 0;
      this.cutAll();
    }
  }

  async close(): Promise<void> {
    this.heal();
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
