import { randomUUID } from "node:crypto";
import type { OpInput } from "@chorus/protocol";
import { sleep, waitUntil } from "@chorus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient, jitteredBackoff, useProcessBed, wsClient } from "./processes.js";

// A fixed amount of work (many pushes, kills and restarts): on a quiet 2-core machine about
// a minute; the budget is only for a hang, sized for a CI machine whose cores are shared.
const DRILL_BUDGET_MS = 600_000;

const suite = useProcessBed();

function batch(deviceLamport: number, size: number): OpInput[] {
  return Array.from({ length: size }, (_, i) => ({
    operationId: randomUUID(),
    lamportTs: deviceLamport + i + 1,
    entity: "track",
    entityId: randomUUID(),
    field: "title",
    op: "set" as const,
    value: `t${deviceLamport + i + 1}`,
  }));
}

async function storedOps(userId: string) {
  return suite.bed.prisma.syncOp.findMany({
    where: { userId },
    select: { id: true, operationId: true },
    orderBy: { id: "asc" },
  });
}

describe("fault drills (loopback only, bounded)", () => {
  it(
    "kill -9 at random during sustained pushes: no acknowledged op lost, none doubled, readers converge",
    async () => {
      const server = await suite.bed.server();
      const userId = await suite.bed.user();
      const writers = await Promise.all([1, 2, 3, 4].map(() => suite.bed.device(userId)));
      const reader = await suite.bed.device(userId);
      const follow = wsClient(() => server, reader.token);
      const seen: number[] = [];
      const sub = follow.client.sync.subscribe.subscribe(
        { lastEventId: 0 },
        { onData: (event) => seen.push(event.data.id) },
      );

      const acknowledged = new Set<string>();
      const sent = new Set<string>();
      const BATCHES = 30;
      const writing = writers.map(async (writer) => {
        const client = httpClient(server, writer.token);
        for (let b = 0; b < BATCHES; b++) {
          const ops = batch(b * 5, 5);
          for (const op of ops) sent.add(op.operationId);
          // Retry the SAME ops (same operation ids) until the server acknowledges them.
          for (let attempt = 0; ; attempt++) {
            if (attempt > 200) throw new Error("gave up: the server never came back");
            try {
              const result = await client.sync.push.mutate({ ops });
              for (const r of result.results) acknowledged.add(r.operationId);
              break;
            } catch {
              await sleep(jitteredBackoff(Math.min(attempt, 5)));
            }
          }
        }
      });

      let kills = 0;
      const killing = (async () => {
        for (let k = 0; k < 5; k++) {
          await sleep(200 + Math.random() * 500);
          await server.kill();
          kills++;
          await sleep(50 + Math.random() * 200);
          await server.start();
        }
      })();
      await Promise.all([...writing, killing]);
      expect(kills).toBe(5);

      const stored = await storedOps(userId);
      const storedIds = new Set(stored.map((op) => op.operationId));
      expect(stored.length).toBe(writers.length * BATCHES * 5); // nothing doubled…
      expect(storedIds.size).toBe(stored.length);
      for (const id of acknowledged) expect(storedIds.has(id)).toBe(true); // …nothing acknowledged lost
      expect(acknowledged.size).toBe(sent.size);

      // The follower reconnected after every kill and resumed by lastEventId.
      await waitUntil("seen.length >= stored.length", () => seen.length >= stored.length);
      // Anything extra (an op twice) would arrive before a later op: wait for one.
      const marker = await httpClient(server, reader.token).sync.push.mutate({ ops: batch(0, 1) });
      await waitUntil("the marker op", () => seen.includes(marker.maxId));
      expect(seen).toEqual([...stored.map((op) => Number(op.id)), marker.maxId]);
      sub.unsubscribe();
      await follow.raw.close();
    },
    DRILL_BUDGET_MS,
  );

  it(
    "a reconnect storm: many clients resume with jittered backoff and nothing is lost",
    async () => {
      const server = await suite.bed.server();
      const userId = await suite.bed.user();
      const writer = await suite.bed.device(userId);
      const CLIENTS = 120;
      const clients = await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          const device = await suite.bed.device(userId);
          const stream = wsClient(() => server, device.token);
          const received: number[] = [];
          const sub = stream.client.sync.subscribe.subscribe(
            { lastEventId: 0 },
            { onData: (event) => received.push(event.data.id) },
          );
          return { stream, sub, received };
        }),
      );
      const push = (lamport: number) =>
        httpClient(server, writer.token).sync.push.mutate({ ops: batch(lamport, 5) });

      const before = await push(0);
      await waitUntil("clients.every((c) => c.received.length === 5)", () =>
        clients.every((c) => c.received.length === 5),
      );
      await server.kill();
      await sleep(300); // the server stays down a moment: every client sees the drop and retries
      await server.start();
      const after = await push(5);
      const expected = [...before.results, ...after.results].map((r) => r.id);
      await waitUntil("clients.every((c) => c.received.length >= expected.length)", () =>
        clients.every((c) => c.received.length >= expected.length),
      );
      // Anything extra (an op twice) would arrive before a later op: wait for it everywhere.
      const marker = await push(10);
      expected.push(...marker.results.map((r) => r.id));
      await waitUntil("the marker ops on every client", () =>
        clients.every((c) => c.received.length >= expected.length),
      );
      for (const c of clients) expect(c.received).toEqual(expected);

      for (const c of clients) c.sub.unsubscribe();
      await Promise.all(clients.map((c) => c.stream.raw.close()));
    },
    DRILL_BUDGET_MS,
  );
});
