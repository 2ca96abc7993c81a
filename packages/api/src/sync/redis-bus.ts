import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { Redis } from "ioredis";
import type { AckFlushOutcome, Bus, ControlEvent, OpsEvent } from "./bus.js";
import { ackFlushSlot, eventsOf, recheckDatabase } from "./bus.js";

export interface RedisBusOptions {
  url: string;
  /** Prefix of every channel and key, so several deployments (or tests) share one Redis. */
  prefix?: string;
  /** How long a flush request waits for the other replicas. */
  ackFlushTimeoutMs?: number;
  /** How often this replica re-announces its online devices (and reads the others'). */
  presenceIntervalMs?: number;
  onError?: (error: unknown) => void;
}

type Wire =
  | { kind: "control"; event: ControlEvent }
  | { kind: "flush"; requestId: string; userId: string | null; from: string }
  | { kind: "flushed"; requestId: string; replica: string };

/**
 * The bus over Redis pub/sub. Every replica subscribes once, at start, to one ops channel and
 * one control channel, and dispatches to its local subscribers by user: simple, and a
 * subscription is live before any backfill. (Per-user channels would scale further; one
 * channel is plenty for the replica counts we run.)
 *
 * The ACK-flush barrier uses PUBLISH's reply — how many subscribers received the request,
 * i.e. how many replicas are up — and waits for that many confirmations.
 */
export async function createRedisBus(options: RedisBusOptions): Promise<Bus> {
  const prefix = options.prefix ?? "chorus";
  const opsChannel = `${prefix}:ops`;
  const controlChannel = `${prefix}:control`;
  const presenceKey = (replica: string) => `${prefix}:presence:${replica}`;
  const replica = randomUUID();
  const onError = options.onError ?? (() => {});
  const flushTimeoutMs = options.ackFlushTimeoutMs ?? 2_000;
  const presenceIntervalMs = options.presenceIntervalMs ?? 2_000;

  // Named, so an operator (or a test) can find this replica's connections in CLIENT LIST.
  const pub = new Redis(options.url, {
    maxRetriesPerRequest: 3,
    lazyConnect: true,
    connectionName: `${prefix}:pub:${replica}`,
  });
  const sub = new Redis(options.url, {
    maxRetriesPerRequest: 3,
    lazyConnect: true,
    connectionName: `${prefix}:sub:${replica}`,
  });
  pub.on("error", onError);
  sub.on("error", onError);
  try {
    await Promise.all([pub.connect(), sub.connect()]);
  } catch (error) {
    pub.disconnect();
    sub.disconnect();
    throw new Error(`cannot connect to Redis: ${(error as Error).message}`);
  }

  const ops = new EventEmitter();
  ops.setMaxListeners(0);
  const control = new EventEmitter();
  control.setMaxListeners(0);
  const waiting = new Map<string, (replica: string) => void>();
  const flush = ackFlushSlot();

  sub.on("message", (channel: string, message: string) => {
    try {
      if (channel === opsChannel) {
        const event = JSON.parse(message) as OpsEvent;
        ops.emit(event.userId, event);
        return;
      }
      const wire = JSON.parse(message) as Wire;
      if (wire.kind === "control") control.emit("event", wire.event);
      else if (wire.kind === "flushed") waiting.get(wire.requestId)?.(wire.replica);
      else if (wire.kind === "flush") void answerFlush(wire);
    } catch (error) {
      onError(error);
    }
  });
  await sub.subscribe(opsChannel, controlChannel);

  // Messages published while the subscriber connection was down are lost (pub/sub keeps
  // nothing). So after every reconnect, once subscribed again, every local subscription is
  // sent back to the database: a nudge whose afterId is past any cursor (see OpsEvent).
  // (The first "ready" came during connect() above, before this listener.)
  sub.on("ready", () => {
    sub
      .subscribe(opsChannel, controlChannel)
      .then(() => {
        for (const userId of ops.eventNames()) {
          ops.emit(userId, recheckDatabase(String(userId)));
        }
      })
      .catch(onError);
  });

  async function answerFlush(request: Extract<Wire, { kind: "flush" }>): Promise<void> {
    try {
      await flush.handler()?.(request.userId);
      const reply: Wire = { kind: "flushed", requestId: request.requestId, replica };
      await pub.publish(controlChannel, JSON.stringify(reply));
    } catch (error) {
      onError(error);
    }
  }

  // Presence: this replica's online devices under a key that expires if it dies; the other
  // replicas' sets are read on the same beat.
  let localPresence: () => string[] = () => [];
  let elsewhere = new Set<string>();
  async function refreshPresence(): Promise<void> {
    const ttlSeconds = Math.ceil((presenceIntervalMs * 3) / 1000);
    await pub.set(presenceKey(replica), JSON.stringify(localPresence()), "EX", ttlSeconds);
    const keys = (await scanKeys(`${prefix}:presence:*`)).filter(
      (key) => key !== presenceKey(replica),
    );
    const values = keys.length > 0 ? await pub.mget(...keys) : [];
    const online = new Set<string>();
    for (const value of values)
      for (const id of JSON.parse(value ?? "[]") as string[]) online.add(id);
    elsewhere = online;
  }
  async function scanKeys(pattern: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await pub.scan(cursor, "MATCH", pattern, "COUNT", 100);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== "0");
    return keys;
  }
  const presenceTimer = setInterval(() => {
    refreshPresence().catch(onError);
  }, presenceIntervalMs);
  presenceTimer.unref();

  return {
    async publishOps(event) {
      await pub.publish(opsChannel, JSON.stringify(event));
    },
    async subscribeOps(userId, signal) {
      return eventsOf<OpsEvent>(ops, userId, signal);
    },
    async publishControl(event) {
      const wire: Wire = { kind: "control", event };
      await pub.publish(controlChannel, JSON.stringify(wire));
    },
    onControl(listener) {
      control.on("event", listener);
      return () => control.off("event", listener);
    },
    async requestAckFlush(userId): Promise<AckFlushOutcome> {
      const requestId = randomUUID();
      const answered = new Set<string>();
      let expected = Number.POSITIVE_INFINITY;
      let done: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      waiting.set(requestId, (from) => {
        answered.add(from);
        if (answered.size >= expected) done();
      });
      try {
        const request: Wire = { kind: "flush", requestId, userId, from: replica };
        expected = await pub.publish(controlChannel, JSON.stringify(request));
        if (answered.size >= expected) done();
        const timeout = new Promise<void>((resolve) => setTimeout(resolve, flushTimeoutMs).unref());
        await Promise.race([finished, timeout]);
        return { replicas: expected, answered: answered.size };
      } finally {
        waiting.delete(requestId);
      }
    },
    onAckFlushRequest: flush.register,
    sharePresence(local) {
      localPresence = local;
      refreshPresence().catch(onError);
    },
    onlineDevices() {
      return new Set([...elsewhere, ...localPresence()]);
    },
    async close() {
      clearInterval(presenceTimer);
      await pub.del(presenceKey(replica)).catch(() => 0);
      ops.removeAllListeners();
      control.removeAllListeners();
      sub.disconnect();
      pub.disconnect();
    },
  };
}
