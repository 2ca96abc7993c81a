import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import type { AppRouter } from "@chorus/api";
import { USER_LOCK_STATEMENT } from "@chorus/db";
import { parseSyncError } from "@chorus/protocol";
import { waitUntil } from "@chorus/testing";
import { createTRPCClient, createWSClient, TRPCClientError, wsLink } from "@trpc/client";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket as RawWebSocket } from "ws";
import { GENEROUS_LIMITS, Harness, makeOps, WebSocket } from "./harness.js";

/*
 * Each bound of a server process, each with a small setting so the test is quick; the defaults
 * are in the README's settings table.
 */
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function closeCode(ws: RawWebSocket): Promise<number> {
  return new Promise((resolve) => ws.once("close", (code) => resolve(code)));
}

describe("resource bounds", () => {
  it("a pull answer of large ops is bounded in bytes, not only in ops", async () => {
    const pageMaxBytes = 256 * 1024;
    harness = await Harness.start({ bounds: { pageMaxBytes }, rateLimits: GENEROUS_LIMITS });
    const device = await harness.createDevice();
    const big = "x".repeat(60_000);
    let lamport = 0;
    for (let i = 0; i < 5; i++) {
      const ops = makeOps(8, lamport + 1000 * i, randomUUID()).map((op, j) => ({
        ...op,
        entityId: randomUUID(),
        value: `${big}${i}-${j}`,
      }));
      lamport += 8;
      await device.http.sync.push.mutate({ ops });
    }

    const seen: number[] = [];
    let since = 0;
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(100);
      const page = await device.http.sync.pull.query({ since, limit: 1000 });
      expect(page.ops.length).toBeGreaterThan(0);
      // A page past its first op stays within the byte bound.
      expect(Buffer.byteLength(JSON.stringify(page.ops))).toBeLessThanOrEqual(pageMaxBytes);
      seen.push(...page.ops.map((op) => op.id));
      since = page.nextSince;
      if (!page.hasMore) break;
      expect(page.ops.length).toBeLessThan(40);
    }
    // Paging on gets every op, in order, once.
    expect(seen).toHaveLength(40);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);

    // A subscription's backfill pages under the same bound and delivers everything too.
    const stream = device.ws();
    const received: number[] = [];
    const sub = stream.client.sync.subscribe.subscribe(
      { lastEventId: 0 },
      { onData: (event) => received.push(event.data.id) },
    );
    await waitUntil("received.length === 40", () => received.length === 40);
    expect(received).toEqual(seen);
    sub.unsubscribe();
  }, 120_000);

  it("a user's pushes waiting on that user's lock do not hold the shared pool hostage", async () => {
    const bed = await Harness.start({
      poolSize: 4,
      bounds: { pushesPerUser: 2, pushQueuePerUser: 3 },
      rateLimits: GENEROUS_LIMITS,
    });
    harness = bed;
    const crowded = await harness.createDevice();
    const other = await harness.createDevice();

    // Someone holds the crowded user's lock (as a long push or a compaction would).
    const holder = new pg.Client({ connectionString: harness.db.url });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query(USER_LOCK_STATEMENT, [crowded.userId]);
      const settled: Array<{ ok: true } | { ok: false; error: unknown }> = [];
      // Eight desktops of the crowded user, one push each and one request per push (a batched
      // link would answer them all together). Separate devices: the order in which the pushes
      // reach the server is not the order they were sent, and one device's later stamp landing
      // first would refuse its earlier one as a Lamport regression, which is not what this
      // test is about.
      const desktops = [crowded];
      while (desktops.length < 8) desktops.push(await bed.createDevice(crowded.userId));
      const pushes = desktops.map((desktop, i) =>
        bed
          .clientWithHeader(`Bearer ${desktop.token}`)
          .sync.push.mutate({ ops: makeOps(1, 100 + i * 10, randomUUID()) })
          .then(
            () => settled.push({ ok: true }),
            (error: unknown) => settled.push({ ok: false, error }),
          ),
      );
      // Two run (waiting in the database for the lock), three wait in line without a
      // connection, and the rest are refused at once with a typed retry.
      await waitUntil("settled.length === 3", () => settled.length === 3);
      for (const result of settled) {
        expect(result.ok).toBe(false);
        const error = result.ok ? null : result.error;
        expect(error).toBeInstanceOf(TRPCClientError);
        expect(parseSyncError(error)?.type).toBe("rate_limited");
      }
      // Another user's push is served from the pool meanwhile.
      const res = await harness
        .clientWithHeader(`Bearer ${other.token}`)
        .sync.push.mutate({ ops: makeOps(1, 5000, randomUUID()) });
      expect(res.results).toHaveLength(1);
      expect(settled).toHaveLength(3); // the admitted pushes still wait for the lock
      const waiting = await holder.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
      );
      expect(waiting.rows[0].n).toBeLessThanOrEqual(2);
      await holder.query("COMMIT");
      await Promise.all(pushes);
      expect(settled.filter((r) => r.ok)).toHaveLength(5);
      expect(await harness.opCount(crowded.userId)).toBe(5);
    } finally {
      await holder.end();
    }
  }, 120_000);

  it("an unauthenticated socket is closed after a few seconds; an authenticated one stays", async () => {
    harness = await Harness.start({ connections: { wsAuthTimeoutMs: 300 } });
    const device = await harness.createDevice();
    const good = device.ws();
    await good.client.system.health.query();
    // The same on a raw socket, which does not reconnect behind the test's back (wsLink does):
    // authenticated before the others open, so its deadline passes before theirs.
    const kept = new RawWebSocket(`ws://${harness.base}/trpc?connectionParams=1`);
    let keptClosed: number | null = null;
    kept.once("close", (code) => {
      keptClosed = code;
    });
    const answered = new Promise((resolve) => kept.once("message", resolve));
    await new Promise((resolve) => kept.once("open", resolve));
    kept.send(JSON.stringify({ method: "connectionParams", data: { token: device.token } }));
    kept.send(JSON.stringify({ id: 1, method: "query", params: { path: "system.health" } }));
    await answered;

    const silent = new RawWebSocket(`ws://${harness.base}/trpc?connectionParams=1`);
    const anonymous = new RawWebSocket(`ws://${harness.base}/trpc`);
    const forged = new RawWebSocket(`ws://${harness.base}/trpc?connectionParams=1`);
    forged.once("open", () =>
      forged.send(JSON.stringify({ method: "connectionParams", data: { token: "forged" } })),
    );
    const codes = await Promise.all([closeCode(silent), closeCode(anonymous), closeCode(forged)]);
    expect(codes).toEqual([4401, 4401, 4401]);
    // The authenticated sockets were open as long, and stay open.
    expect(keptClosed).toBeNull();
    expect(kept.readyState).toBe(RawWebSocket.OPEN);
    expect(await good.client.system.health.query()).toBeTruthy();
    kept.close();
  }, 120_000);

  it("sockets per device are capped", async () => {
    harness = await Harness.start({ connections: { socketsPerDevice: 2 } });
    const device = await harness.createDevice();
    const closes: Array<number | undefined> = [];
    // A client connects as soon as it is made: the third is made once the first two are in.
    const open = () => {
      const raw = createWSClient({
        url: `ws://${harness?.base}/trpc`,
        WebSocket,
        connectionParams: () => ({ token: device.token }),
        retryDelayMs: () => 60_000,
        onClose: (cause) => closes.push(cause?.code),
      });
      return { raw, client: createTRPCClient<AppRouter>({ links: [wsLink({ client: raw })] }) };
    };
    const clients = [open(), open()];
    try {
      for (const c of clients) await c.client.system.health.query();
      const third = open();
      clients.push(third);
      void third.client.system.health.query().catch(() => {});
      await waitUntil("closes.length > 0", () => closes.length > 0);
      expect(closes).toEqual([4429]);
      // The first two still work.
      for (const c of clients.slice(0, 2)) await c.client.system.health.query();
    } finally {
      await Promise.all(clients.map((c) => c.raw.close()));
    }
  }, 120_000);

  it("a device's closed sockets no longer count against its cap", async () => {
    harness = await Harness.start({ connections: { socketsPerDevice: 2 } });
    const device = await harness.createDevice();
    const base = harness.base;
    // A raw socket (no reconnects behind the test's back): authenticated, then one query; it
    // resolves with the socket once answered, or with the close code if closed first.
    const open = () =>
      new Promise<{ ws: RawWebSocket; closed: number | null }>((resolve) => {
        const ws = new RawWebSocket(`ws://${base}/trpc?connectionParams=1`);
        ws.once("close", (code) => resolve({ ws, closed: code }));
        ws.once("message", () => resolve({ ws, closed: null }));
        ws.once("open", () => {
          ws.send(JSON.stringify({ method: "connectionParams", data: { token: device.token } }));
          ws.send(JSON.stringify({ id: 1, method: "query", params: { path: "system.health" } }));
        });
      });
    const first = await open();
    const second = await open();
    expect([first.closed, second.closed]).toEqual([null, null]);
    const firstGone = closeCode(first.ws);
    first.ws.close();
    await firstGone;
    // The server handles that close on its side about when the client sees it: a socket
    // refused meanwhile is tried again.
    let replacement = await open();
    const deadline = Date.now() + 30_000;
    while (replacement.closed === 4429 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      replacement = await open();
    }
    expect(replacement.closed).toBeNull();
    // Two open again: the cap still holds.
    const third = await open();
    expect(third.closed).toBe(4429);
    second.ws.close();
    replacement.ws.close();
  }, 120_000);

  it("subscriptions per socket are capped", async () => {
    harness = await Harness.start({
      bounds: { subscriptionsPerSocket: 2 },
      rateLimits: GENEROUS_LIMITS,
    });
    const device = await harness.createDevice();
    const stream = device.ws();
    const started: number[] = [];
    const errors: unknown[] = [];
    const subscribe = (n: number) =>
      stream.client.sync.subscribe.subscribe(
        { lastEventId: 0 },
        { onStarted: () => started.push(n), onError: (error) => errors.push(error) },
      );
    const one = subscribe(1);
    const two = subscribe(2);
    await waitUntil("started.length === 2", () => started.length === 2);
    const three = subscribe(3);
    await waitUntil("errors.length === 1", () => errors.length === 1);
    expect((errors[0] as TRPCClientError<AppRouter>).data?.code).toBe("TOO_MANY_REQUESTS");
    // Ending one makes room for another.
    one.unsubscribe();
    three.unsubscribe();
    let fourStarted = false;
    let four = stream.client.sync.subscribe.subscribe(
      { lastEventId: 0 },
      { onStarted: () => (fourStarted = true) },
    );
    // The server learns of the unsubscribe asynchronously: retry until there is room.
    await waitUntil("a fourth subscription to start", async () => {
      if (fourStarted) return true;
      if (errors.length > 1) {
        errors.length = 1;
        four.unsubscribe();
        four = stream.client.sync.subscribe.subscribe(
          { lastEventId: 0 },
          { onStarted: () => (fourStarted = true), onError: (error) => errors.push(error) },
        );
      }
      return false;
    });
    two.unsubscribe();
    four.unsubscribe();
  }, 120_000);

  it("a request whose headers never finish is answered 408 after the header timeout", async () => {
    harness = await Harness.start({ connections: { headersTimeoutMs: 500 } });
    const [host, port] = harness.base.split(":");
    const socket = connect(Number(port), host);
    let answer = "";
    socket.on("data", (chunk) => {
      answer += chunk.toString();
    });
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.write("GET /healthz HTTP/1.1\r\nHost: chorus\r\n"); // no blank line: never finishes
    // Well below Node's own default (60 s, checked every 30 s), far above the setting.
    let done = false;
    void closed.then(() => {
      done = true;
    });
    await waitUntil("done", () => done, { timeoutMs: 45_000 });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  }, 120_000);
});
