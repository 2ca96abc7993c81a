import { connect, createServer, type Server, type Socket } from "node:net";
import { WireAnswerReader, WireCallReader } from "@chorus/testing/wire";

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
  /** When set, cutting the armed push's answer also partitions the device for this long. */
  private partitionAfterCutMs: number | null = null;
  /** Push answers cut after the server had them (armed by cutNextPushAnswer). */
  answersCut = 0;
  /**
   * Per upstream port: the highest `lastSeenId` of an ACK that port answered with success (an
   * HTTP request or a message on the WebSocket, and its answer). A scenario uses it to know
   * where a device's ACK sits.
   */
  readonly ackedOn = new Map<number, number>();

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
    const upstreamPort: number = port;
    const upstream = connect(upstreamPort, "127.0.0.1");
    upstream.on("error", () => {});
    const pair = { client, upstream };
    this.pairs.add(pair);
    // Like TCP, the proxy never reorders and never loses bytes of a connection it keeps:
    // - each direction is a queue: a chunk waits the delay in force when it arrived, and is
    //   written only after every earlier chunk of its direction, whatever the delay is by then
    //   (writing a chunk at once while an earlier one still waited for its timer let it
    //   overtake: a later op reached a device before an earlier one, whose cursor then passed
    //   the earlier op without applying it);
    // - a connection that lost a chunk to a half-open link carries nothing more: it is cut at
    //   its next chunk (or at the heal), never resumed with a gap in its stream.
    let torn = false;
    const forward = (to: Socket) => {
      const queue: Array<{ chunk: Buffer; due: number }> = [];
      let timer: NodeJS.Timeout | null = null;
      const drain = () => {
        timer = null;
        for (let head = queue[0]; head; head = queue[0]) {
          const wait = head.due - Date.now();
          if (wait > 0) {
            timer = setTimeout(drain, wait);
            return;
          }
          queue.shift();
          if (!to.destroyed) to.write(head.chunk);
        }
      };
      return (chunk: Buffer) => {
        const now = Date.now();
        if (now < this.blackholeUntil) {
          torn = true;
          return;
        }
        if (torn) {
          end();
          return;
        }
        queue.push({ chunk, due: Math.max(now + this.delayMs, queue.at(-1)?.due ?? 0) });
        if (timer === null) drain();
      };
    };
    // "Stored, but the answer never arrived": the connection carrying an armed push is cut as
    // soon as the server starts answering it (over the WebSocket: that message's answer).
    let pushInFlight: { id: string | null } | null = null;
    // ACKs in flight on this connection by message id ("" over HTTP: one request at a time).
    const acks = new Map<string, number>();
    const calls = new WireCallReader();
    const answers = new WireAnswerReader();
    const toUpstream = forward(upstream);
    const toClient = forward(client);
    client.on("data", (chunk: Buffer) => {
      for (const call of calls.read(chunk)) {
        if (this.cutPushAnswer && call.path === "sync.push") {
          this.cutPushAnswer = false;
          pushInFlight = { id: call.id };
        }
        const lastSeenId = (call.input as { lastSeenId?: unknown } | null)?.lastSeenId;
        if (call.path === "sync.ack" && typeof lastSeenId === "number") {
          acks.set(call.id ?? "", lastSeenId);
        }
      }
      toUpstream(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      // Every chunk is read, so the WebSocket frames stay in step.
      const answered = answers.read(chunk);
      for (const answer of answered) {
        const key = answer.id ?? "";
        const acked = acks.get(key);
        if (acked === undefined) continue;
        acks.delete(key);
        if (answer.status === 200) {
          this.ackedOn.set(upstreamPort, Math.max(this.ackedOn.get(upstreamPort) ?? 0, acked));
        }
      }
      const inFlight = pushInFlight;
      if (inFlight && answered.some((answer) => answer.id === inFlight.id)) {
        this.answersCut++;
        client.destroy();
        upstream.destroy();
        const partitionMs = this.partitionAfterCutMs;
        this.partitionAfterCutMs = null;
        // In the same tick: the engine gets no chance to retry, nor to hear of its ops
        // from its subscription, before the device is cut off.
        if (partitionMs !== null) this.partition(partitionMs);
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

  /**
   * The next push is forwarded and its answer cut: the device must retry it. With
   * `partitionMs`, the device is partitioned at that moment (every connection cut, new ones
   * refused), so its ops stay queued though the server stored them.
   */
  cutNextPushAnswer(partitionMs?: number): void {
    this.cutPushAnswer = true;
    this.partitionAfterCutMs = partitionMs ?? null;
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
    this.partitionAfterCutMs = null;
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
