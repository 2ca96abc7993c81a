import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AppRouter } from "@chorus/api";
import { loadOrCreateDevSigningKey, mintAccessToken, type SigningKey } from "@chorus/auth";
import { createPrisma, type PrismaClient } from "@chorus/db";
import { freePort } from "@chorus/db/embedded";
import { createTestDatabase, type TestDatabase } from "@chorus/db/testing";
import { createTRPCClient, createWSClient, httpLink, type TRPCClient, wsLink } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeOps, WebSocket, waitFor } from "./harness.js";

/*
 * Two sync-server replicas, each a real process (`src/main.ts`), sharing one Postgres and one
 * Redis. Needs Redis: TEST_REDIS_URL, default redis://127.0.0.1:6379 (.ci/run starts one).
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const mainTs = new URL("../src/main.ts", import.meta.url).pathname;

interface Replica {
  url: string;
  proc: ChildProcess;
}

let db: TestDatabase;
let prisma: PrismaClient;
let key: SigningKey;
let keyFile: string;
const prefix = `chorus-test-${randomUUID()}`;
const replicas: Replica[] = [];

async function startReplica(): Promise<Replica> {
  const port = await freePort();
  const proc = spawn(process.execPath, ["--import", "tsx", mainTs], {
    env: {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: db.url,
      SYNC_PORT: String(port),
      REDIS_URL,
      REDIS_PREFIX: prefix,
      CHORUS_DEV_KEY_FILE: keyFile,
      ACK_FLUSH_INTERVAL_MS: "60000",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const replica = { url: `127.0.0.1:${port}`, proc };
  replicas.push(replica);
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error(`replica exited with ${proc.exitCode}`);
    return fetch(`http://${replica.url}/healthz`).then(
      (res) => res.ok,
      () => false,
    );
  }, 30_000);
  return replica;
}

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, { max: 2 });
  keyFile = join(mkdtempSync(join(tmpdir(), "chorus-replicas-")), "key.json");
  key = await loadOrCreateDevSigningKey(keyFile);
}, 60_000);
afterAll(async () => {
  for (const replica of replicas) replica.proc.kill("SIGKILL");
  await prisma.$disconnect();
  await db.drop();
});

async function device(userId?: string) {
  const owner =
    userId ??
    (
      await prisma.user.create({
        data: { email: `${randomUUID()}@example.test`, passwordHash: "x" },
      })
    ).id;
  const row = await prisma.device.create({
    data: { userId: owner, name: "desktop", platform: "linux", appVersion: "0.1.0" },
  });
  const { token } = await mintAccessToken(key, {
    userId: owner,
    role: "user",
    kind: "device",
    deviceId: row.id,
  });
  return { userId: owner, deviceId: row.id, token };
}

function http(replica: Replica, token: string): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `http://${replica.url}/trpc`,
        headers: { authorization: `Bearer ${token}` },
      }),
    ],
  });
}

/** A WebSocket client whose target can change, as behind a load balancer. */
function ws(target: () => Replica, token: string) {
  const raw = createWSClient({
    url: () => `ws://${target().url}/trpc`,
    WebSocket,
    connectionParams: () => ({ token }),
    retryDelayMs: () => 100,
  });
  return { raw, client: createTRPCClient<AppRouter>({ links: [wsLink({ client: raw })] }) };
}

describe("two replicas over Redis", () => {
  it("fan-out, the ACK barrier and fail-over work across replicas", async () => {
    const one = await startReplica();
    const two = await startReplica();

    // Device A on replica 1 pushes; device B, subscribed on replica 2, receives.
    const a = await device();
    const b = await device(a.userId);
    const bOnTwo = ws(() => two, b.token);
    const received: number[] = [];
    const sub = bOnTwo.client.sync.subscribe.subscribe(
      { lastEventId: 0 },
      { onData: (event) => received.push(event.data.id) },
    );
    await bOnTwo.client.system.health.query();
    const first = await http(one, a.token).sync.push.mutate({ ops: makeOps(5, 0, randomUUID()) });
    await waitFor(() => received.length === 5);
    expect(received).toEqual(first.results.map((r) => r.id));

    // Presence crosses replicas: replica 1 reports B (connected to replica 2) online.
    await waitFor(async () => {
      const devices = await http(one, a.token).devices.list.query();
      return devices.find((d) => d.id === b.deviceId)?.online === true;
    }, 10_000);

    // An ACK buffered on replica 2 counts in a compaction run on replica 1.
    await http(one, a.token).sync.ack.mutate({ lastSeenId: first.maxId });
    await bOnTwo.client.sync.ack.mutate({ lastSeenId: first.results[3]?.id as number });
    const adminId = (
      await prisma.user.create({
        data: { email: `${randomUUID()}@x.test`, passwordHash: "x", role: "admin" },
      })
    ).id;
    const { token: adminToken } = await mintAccessToken(key, {
      userId: adminId,
      role: "admin",
      kind: "web",
    });
    const run = await http(one, adminToken).admin.runCompaction.mutate({ userId: a.userId });
    expect(run.outcome).toBe("succeeded");
    const watermark = await prisma.syncCompactionWatermark.findUniqueOrThrow({
      where: { userId: a.userId },
    });
    // Without the barrier B's cursor would be missing on replica 1 (counted as 0): no raise.
    expect(Number(watermark.compactedUpTo)).toBe(first.results[3]?.id);

    // Replica 1 dies mid-traffic; its devices resume on replica 2 with nothing lost or doubled.
    const c = await device(a.userId);
    let target = one;
    const cStream = ws(() => target, c.token);
    const cReceived: number[] = [];
    const cSub = cStream.client.sync.subscribe.subscribe(
      { lastEventId: first.maxId },
      { onData: (event) => cReceived.push(event.data.id) },
    );
    await cStream.client.system.health.query();
    const pushed: number[] = [];
    let lamport = 5;
    for (let i = 0; i < 30; i++) {
      if (i === 10) {
        one.proc.kill("SIGKILL");
        target = two; // the load balancer sends reconnects to the survivor
      }
      const replica = i < 10 ? one : two;
      const res = await http(replica, a.token).sync.push.mutate({
        ops: makeOps(2, lamport, randomUUID()),
      });
      lamport += 2;
      pushed.push(...res.results.map((r) => r.id));
    }
    await waitFor(() => cReceived.length >= pushed.length, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(cReceived).toEqual(pushed);
    expect(received.slice(5)).toEqual(pushed); // B on replica 2 saw everything once, too

    sub.unsubscribe();
    cSub.unsubscribe();
    await bOnTwo.raw.close();
    await cStream.raw.close();
  }, 120_000);
});
