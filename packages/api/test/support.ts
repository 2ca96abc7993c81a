import { randomUUID } from "node:crypto";
import { createPrisma, type PrismaClient } from "@chorus/db";
import { createTestDatabase, type TestDatabase } from "@chorus/db/testing";
import {
  applyOp,
  auditRows,
  createLwwState,
  digestAudit,
  type LwwOp,
  type OpInput,
  type SyncOp,
} from "@chorus/protocol";
import { sha256 } from "../src/diagnostics/convergence.js";
import { appRouter, type Context, createServices, type Principal } from "../src/index.js";
import { AckBuffer } from "../src/sync/ack-buffer.js";
import { lockUser, pushOps, readOps } from "../src/sync/ops-store.js";
import { createCallerFactory } from "../src/trpc.js";

/** A fresh database, a Prisma client and a controllable clock for one test file. */
export class ApiTestbed {
  nowMs = Date.now();
  readonly clock = () => new Date(this.nowMs);
  readonly acks: AckBuffer;

  private constructor(
    readonly db: TestDatabase,
    readonly prisma: PrismaClient,
  ) {
    this.acks = new AckBuffer(prisma, { intervalMs: 60_000, now: this.clock });
  }

  static async start(): Promise<ApiTestbed> {
    const db = await createTestDatabase();
    return new ApiTestbed(db, createPrisma(db.url, { max: 6 }));
  }

  advanceDays(days: number): void {
    this.nowMs += days * 24 * 60 * 60 * 1000;
  }

  async user(): Promise<string> {
    const user = await this.prisma.user.create({
      data: { email: `${randomUUID()}@example.test`, passwordHash: "unused" },
    });
    return user.id;
  }

  async device(userId: string, name = "desktop"): Promise<string> {
    const device = await this.prisma.device.create({
      data: { userId, name, platform: "linux", appVersion: "0.1.0", boundAt: this.clock() },
    });
    return device.id;
  }

  async push(userId: string, deviceId: string, ops: OpInput[]): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < ops.length; i += 500) {
      const outcome = await pushOps(this.prisma, userId, deviceId, ops.slice(i, i + 500));
      ids.push(...outcome.results.map((r) => r.id));
    }
    return ids;
  }

  /** A cursor as a past flush would have left it. */
  async storedCursor(userId: string, deviceId: string, lastSeenId: number, at = this.clock()) {
    await this.prisma.deviceSyncCursor.upsert({
      where: { userId_deviceId: { userId, deviceId } },
      create: { userId, deviceId, lastSeenId: BigInt(lastSeenId), lastSeenAt: at },
      update: { lastSeenId: BigInt(lastSeenId), lastSeenAt: at },
    });
  }

  async allOps(userId: string): Promise<SyncOp[]> {
    const ops: SyncOp[] = [];
    for (;;) {
      const page = await readOps(this.prisma, userId, ops.at(-1)?.id ?? 0, 1000);
      ops.push(...page);
      if (page.length < 1000) return ops;
    }
  }

  async watermark(userId: string): Promise<number> {
    const row = await this.prisma.syncCompactionWatermark.findUnique({ where: { userId } });
    return row ? Number(row.compactedUpTo) : 0;
  }

  /** A tRPC caller acting as a device, on this testbed's database (its own services by default). */
  callerFor(
    userId: string,
    deviceId: string,
    services: ReturnType<typeof createServices> = createServices({ prisma: this.prisma }),
  ) {
    const principal: Principal = {
      userId,
      role: "user",
      kind: "device",
      deviceId,
      expiresAt: new Date(Date.now() + 600_000),
    };
    const ctx: Context = {
      services: { ...services, acks: this.acks },
      principal,
      authError: null,
      socket: null,
      slowConsumerBytes: 1 << 20,
    };
    return createCallerFactory(appRouter)(ctx);
  }

  /**
   * Holds the user's push lock (the one compaction takes) in an open transaction until
   * `release()`; resolves once the lock is held.
   */
  async holdUserLock(userId: string): Promise<{ release(): Promise<void> }> {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: () => void = () => {};
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = this.prisma.$transaction(
      async (tx) => {
        await lockUser(tx, userId);
        locked();
        await held;
      },
      { timeout: 120_000 },
    );
    await isLocked;
    return {
      release: async () => {
        release();
        await holder;
      },
    };
  }

  async close(): Promise<void> {
    await this.prisma.$disconnect();
    await this.db.drop();
  }
}

let lamport = 0;
/** A set op with a fresh operation id and a Lamport timestamp above every earlier one. */
export function setOp(
  entityId: string,
  field: string,
  value: unknown,
  entity = "playlist",
): OpInput {
  return {
    operationId: randomUUID(),
    lamportTs: ++lamport,
    entity,
    entityId,
    field,
    op: "set",
    value: value as OpInput["value"],
  };
}

export function asLww(op: SyncOp): LwwOp {
  return op;
}

/**
 * The audit rows and digest of `ops` folded at once in the given order: what a device holding
 * them computes, and the reference the server's streamed fold must equal.
 */
export function foldedAudit(ops: LwwOp[]) {
  const state = createLwwState();
  for (const op of ops) applyOp(state, op);
  const rows = auditRows(state);
  return { rows, digest: digestAudit(rows, sha256) };
}
