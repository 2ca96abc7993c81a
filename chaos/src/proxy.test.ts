import { connect, createServer, type Server, type Socket } from "node:net";
import { waitUntil } from "@chorus/testing";
import { afterEach, describe, expect, it } from "vitest";
import { FaultProxy } from "./proxy.js";

/*
 * The fault proxy stands in for a network, and a network under TCP never reorders the bytes of
 * a connection, nor drops some and goes on with the rest. Seed 20261201 of the long run
 * diverged because the proxy did: when a delay ended, a chunk that arrived next was written at
 * once while an earlier one still waited for its timer, so a device's subscription received op
 * 4293 before op 4290 (seen in a traced replay); the engine applied 4293 and its cursor passed
 * 4290, which it then skipped as already seen.
 */

/** A server that records what each connection receives, as `;`-terminated numbers. */
async function sink(): Promise<{ server: Server; port: number; received: number[][] }> {
  const received: number[][] = [];
  const server = createServer((socket) => {
    const mine: number[] = [];
    received.push(mine);
    let rest = "";
    socket.on("data", (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split(";");
      rest = parts.pop() ?? "";
      for (const part of parts) mine.push(Number(part));
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("sink has no port");
  return { server, port: address.port, received };
}

async function client(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  socket.on("error", () => {});
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  return socket;
}

/** Keeps the event loop busy, as a loaded machine does: timers due meanwhile run late. */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const timerPhase = (fn: () => void) =>
  new Promise<void>((resolve) =>
    setTimeout(() => {
      fn();
      resolve();
    }, 0),
  );

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("fault proxy", () => {
  it("never lets a chunk overtake an earlier one when a delay ends (seed 20261201)", async () => {
    const target = await sink();
    cleanups.push(() => new Promise<void>((resolve) => target.server.close(() => resolve())));
    const proxy = await FaultProxy.start(() => target.port);
    cleanups.push(() => proxy.close());
    const socket = await client(proxy.port);
    cleanups.push(() => void socket.destroy());

    const rounds = 20;
    for (let round = 0; round < rounds; round++) {
      // An earlier chunk waits out a delay...
      proxy.delay(15, 60_000);
      socket.write(`${2 * round};`);
      await nextTurn(); // the proxy has read it
      // ...the delay ends, and the next chunk arrives while the earlier one's timer, due by
      // then, has not run yet (a busy loop runs timers late).
      proxy.heal();
      await timerPhase(() => {
        socket.write(`${2 * round + 1};`);
        busy(40);
      });
      await nextTurn(); // the proxy has read it (before the next round's delay)
    }
    await waitUntil("every chunk through the proxy", () => {
      const [received] = target.received;
      return (received?.length ?? 0) === 2 * rounds;
    });
    expect(target.received[0]).toEqual(Array.from({ length: 2 * rounds }, (_, i) => i));
  });

  it("keeps order while delays of different lengths come and go", async () => {
    const target = await sink();
    cleanups.push(() => new Promise<void>((resolve) => target.server.close(() => resolve())));
    const proxy = await FaultProxy.start(() => target.port);
    cleanups.push(() => proxy.close());
    const socket = await client(proxy.port);
    cleanups.push(() => void socket.destroy());

    const chunks = 1_500;
    for (let i = 0; i < chunks; i++) {
      socket.write(`${i};`);
      if (i % 100 === 0) proxy.delay(10 + (i % 300), 60_000);
      if (i % 100 === 30) proxy.delay(5, 60_000); // shorter: later chunks must still wait
      if (i % 100 === 60) proxy.heal();
      if (i % 7 === 0) busy(2);
      await nextTurn();
    }
    proxy.heal();
    await waitUntil("every chunk through the proxy", () => {
      const [received] = target.received;
      return (received?.length ?? 0) === chunks;
    });
    expect(target.received[0]).toEqual(Array.from({ length: chunks }, (_, i) => i));
  });

  it("cuts a half-open connection that lost a chunk instead of carrying later bytes", async () => {
    const target = await sink();
    cleanups.push(() => new Promise<void>((resolve) => target.server.close(() => resolve())));
    const proxy = await FaultProxy.start(() => target.port);
    cleanups.push(() => proxy.close());
    const socket = await client(proxy.port);
    cleanups.push(() => void socket.destroy());
    let closed = false;
    socket.once("close", () => {
      closed = true;
    });

    socket.write("0;");
    await waitUntil("the first chunk", () => target.received[0]?.length === 1);
    const blackholeMs = 200;
    const started = Date.now();
    proxy.halfOpen(blackholeMs);
    // Another fault replaces the heal that would have cut the connection.
    proxy.delay(0, 60_000);
    socket.write("1;"); // lost in the black hole
    await waitUntil("the black hole to end", () => Date.now() - started > blackholeMs, {
      intervalMs: 20,
    });
    socket.write("2;");
    await waitUntil("the torn connection to be cut", () => closed);
    expect(target.received[0]).toEqual([0]);
  });
});
