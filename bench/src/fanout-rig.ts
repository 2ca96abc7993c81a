import type { BenchDevice } from "./fixtures.js";
import { nextOps } from "./fixtures.js";
import type { PushClient } from "./http-push.js";
import { inWaves, type Progress, sleep, waitUntil, wallClockMs } from "./progress.js";
import type { Delivery } from "./stalls.js";
import { Samples, stampsOf } from "./stamps.js";
import { connectTrpcSocket, type TrpcSocket } from "./trpc-socket.js";

/** Subscribers of one kind: devices holding `sync.subscribe` on one server. */
export interface SubscriberGroup {
  label: string;
  /** ws://127.0.0.1:<port>/trpc */
  url: string;
  devices: BenchDevice[];
}

export interface GroupSamples {
  label: string;
  /** Receipt minus the op's created_at (set in the push transaction). */
  commit: Samples;
  /** Receipt minus the moment the push request went out. */
  send: Samples;
  received: Int32Array;
  /** Each measured delivery's seq, created_at and receipt (wall clock), to match with pauses. */
  deliveries: DeliveryLog;
}

/**
 * Deliveries kept in typed arrays: tens of thousands of small objects made while measuring
 * would be garbage for the bench process's collector, whose pauses delay the receipts.
 */
export class DeliveryLog {
  private readonly seq: Float64Array;
  private readonly createdAt: Float64Array;
  private readonly receivedAt: Float64Array;
  count = 0;

  constructor(capacity: number) {
    this.seq = new Float64Array(capacity);
    this.createdAt = new Float64Array(capacity);
    this.receivedAt = new Float64Array(capacity);
  }

  add(seq: number, createdAt: number, receivedAt: number): void {
    if (this.count >= this.seq.length) return;
    this.seq[this.count] = seq;
    this.createdAt[this.count] = createdAt;
    this.receivedAt[this.count] = receivedAt;
    this.count++;
  }

  all(): Delivery[] {
    return Array.from({ length: this.count }, (_, i) => ({
      seq: this.seq[i] as number,
      createdAt: this.createdAt[i] as number,
      receivedAt: this.receivedAt[i] as number,
    }));
  }
}

/**
 * Subscribers on real servers, and pushes at a fixed rate whose ops carry their stamps: the
 * machinery of the latency figures (fan-out, cross-replica, the engine's baseline).
 */
export class FanoutRig {
  /** One real data message as the server sent it (the baseline's payload). */
  sample = "";
  delivered = 0;

  private constructor(
    readonly groups: GroupSamples[],
    private readonly sockets: TrpcSocket[],
  ) {}

  static async connect(
    groups: SubscriberGroup[],
    pushes: number,
    progress: Progress,
    concurrency = 100,
  ): Promise<FanoutRig> {
    const samples = groups.map((group) => ({
      label: group.label,
      commit: new Samples(pushes * group.devices.length),
      send: new Samples(pushes * group.devices.length),
      received: new Int32Array(group.devices.length),
      deliveries: new DeliveryLog(pushes * group.devices.length),
    }));
    const sockets: TrpcSocket[] = [];
    const rig = new FanoutRig(samples, sockets);
    const total = groups.reduce((sum, group) => sum + group.devices.length, 0);
    progress.note(`connecting ${total.toLocaleString("en-US")} subscribers (tRPC over WebSocket)`);
    try {
      for (const [g, group] of groups.entries()) {
        const into = samples[g] as GroupSamples;
        await inWaves(group.devices, concurrency, async (device, index) => {
          const socket = await connectTrpcSocket(group.url, device.token, wallClockMs);
          sockets.push(socket);
          await socket.subscribe("sync.subscribe", { lastEventId: 0 }, (message, receivedAt) => {
            const stamps = stampsOf(message);
            if (!stamps) return;
            into.received[index] = (into.received[index] ?? 0) + 1;
            if (stamps.seq < 0) return; // warm-up
            if (!rig.sample) rig.sample = message;
            rig.delivered++;
            into.commit.add(receivedAt - stamps.createdAt);
            into.deliveries.add(stamps.seq, stamps.createdAt, receivedAt);
            into.send.add(receivedAt - stamps.sentAt);
          });
        });
      }
    } catch (error) {
      rig.close();
      throw error;
    }
    return rig;
  }

  /**
   * Pushes warm-up ops (one from each pusher per round) until every subscriber has received
   * one: all are live.
   */
  async warmUp(client: PushClient, pushers: BenchDevice[], progress: Progress): Promise<void> {
    progress.note("warming up until every subscriber receives a push");
    let seq = -1;
    const ready = await waitUntil(
      async () => {
        if (this.groups.every((group) => group.received.every((count) => count > 0))) return true;
        await inWaves(pushers, 25, (pusher) =>
          client.push(
            pusher.token,
            nextOps(pusher, 1, () => ({ seq: seq-- })),
          ),
        );
        return false;
      },
      30_000,
      200,
    );
    if (!ready) throw new Error("not every subscriber received the warm-up pushes within 30 s");
  }

  /**
   * `count` pushes of one op at `rate` per second (open loop: the schedule does not wait for
   * answers), round-robin over `pushers`, each of which has at most one push in flight so its
   * Lamport order holds. Then waits up to `drainMs` for every delivery. Returns the ms from
   * the first push to the last delivery (or to the end of the drain).
   */
  async pushAtRate(
    client: PushClient,
    pushers: BenchDevice[],
    options: {
      rate: number;
      count: number;
      expectedDeliveries: number;
      drainMs: number;
      /** Warm-up pushes: not counted (negative sequence numbers), no wait for deliveries. */
      warmUp?: boolean;
    },
    progress: Progress,
  ): Promise<number> {
    const { rate, count, expectedDeliveries, drainMs } = options;
    const first = options.warmUp ? -1_000_000_000 : 0;
    progress.note(
      `${options.warmUp ? "warm-up: " : ""}pushing ${rate}/s for ${count / rate} s, one op per push`,
    );
    const stop = progress.every(
      2_000,
      () =>
        `${this.delivered.toLocaleString("en-US")} of ${expectedDeliveries.toLocaleString("en-US")} deliveries`,
    );
    try {
      const chains = pushers.map(() => Promise.resolve());
      const start = performance.now();
      for (let seq = 0; seq < count; seq++) {
        const wait = start + (seq * 1000) / rate - performance.now();
        if (wait > 0) await sleep(wait);
        const slot = seq % pushers.length;
        const pusher = pushers[slot] as BenchDevice;
        const stamp = { seq: first + seq, sentAt: 0 };
        const ops = nextOps(pusher, 1, () => stamp);
        chains[slot] = (chains[slot] as Promise<void>).then(async () => {
          // Stamped when the request actually goes out, not when it was scheduled.
          stamp.sentAt = wallClockMs();
          await client.push(pusher.token, ops);
        });
      }
      await Promise.all(chains);
      if (!options.warmUp) await waitUntil(() => this.delivered >= expectedDeliveries, drainMs);
      return performance.now() - start;
    } finally {
      stop();
    }
  }

  close(): void {
    for (const socket of this.sockets) socket.terminate();
  }
}
