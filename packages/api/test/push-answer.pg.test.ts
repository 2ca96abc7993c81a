import { randomUUID } from "node:crypto";
import { type PrismaClient, poolOf } from "@chorus/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PushAnswerError, parsePushAnswer, pushOps } from "../src/sync/ops-store.js";
import { ApiTestbed, setOp } from "./support.js";

let bed: ApiTestbed;
beforeAll(async () => {
  bed = await ApiTestbed.start();
});
afterAll(async () => {
  await bed?.close();
});

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("the push function's answer", () => {
  it("is checked before it is trusted: a wrong shape is a PushAnswerError naming what is wrong", () => {
    const createdAt = "2026-12-01T10:00:00.123Z";
    const ms = String(Date.parse(createdAt));
    const ok = {
      kind: "ok",
      newest_before: "7",
      stored_max: "1",
      epoch: null,
      stored_ords: [1, 3],
      stored_ids: ["8", "9"],
      stored_ms: [ms, ms],
      dup_ords: [2],
      dup_ids: ["5"],
    };
    expect(parsePushAnswer(ok, 3)).toEqual({
      kind: "ok",
      newestBefore: 7,
      storedMax: 1,
      stored: [
        { index: 0, id: 8, createdAt },
        { index: 2, id: 9, createdAt },
      ],
      duplicates: [{ index: 1, id: 5 }],
    });
    // Prisma gives int8 as bigint: the same answer.
    const viaPrisma = {
      ...ok,
      newest_before: 7n,
      stored_ids: [8n, 9n],
      stored_ms: [BigInt(ms), BigInt(ms)],
      dup_ids: [5n],
    };
    expect(parsePushAnswer(viaPrisma, 3)).toEqual(parsePushAnswer(ok, 3));
    const refused =
      (row: unknown, count = 3) =>
      () =>
        parsePushAnswer(row, count);
    expect(refused({ ...ok, stored_ids: ["8", "x"] })).toThrow(/stored_ids/);
    expect(refused({ ...ok, stored_ids: ["9", "8"] })).toThrow(/ascend/);
    expect(refused({ ...ok, stored_ids: ["8", "9007199254740993"] })).toThrow(PushAnswerError);
    expect(refused({ ...ok, stored_ms: [ms] })).toThrow(/stored_ms/);
    expect(refused({ ...ok, dup_ords: [1] })).toThrow(/twice/);
    expect(refused({ ...ok, dup_ords: [4] })).toThrow(/outside/);
    expect(refused({ ...ok, dup_ords: [], dup_ids: [] })).toThrow(/no id/);
    expect(refused(ok, 4)).toThrow(/no id/);
    expect(refused({ ...ok, dup_ids: null })).toThrow(/dup_ids/);
    expect(refused({ kind: "conflict" })).toThrow(/kind/);
    expect(refused({ kind: "key_epoch_stale", epoch: null })).toThrow(/epoch/);
    expect(refused({ kind: "lamport_regression", newest_before: "1" })).toThrow(/stored_max/);
    expect(refused(null)).toThrow(PushAnswerError);
    expect(refused(undefined)).toThrow(PushAnswerError);
  });

  it("of the real function matches the schema (a push round-trips through it)", async () => {
    const userId = await bed.user();
    const deviceId = await bed.device(userId);
    const outcome = await pushOps(bed.prisma, userId, deviceId, [setOp(randomUUID(), "name", "A")]);
    expect(outcome.results).toHaveLength(1);
    expect(outcome.event?.ops[0]?.id).toBe(outcome.maxId);
  });
});

describe("where the push statement runs", () => {
  it("on createPrisma's own pool, or through Prisma for another client: one op stored once either way", async () => {
    expect(poolOf(bed.prisma)).not.toBeNull();
    // The same client seen through a proxy: not one createPrisma made, so it has no pool.
    const other = new Proxy(bed.prisma, {
      get: (target, name) => {
        const value = Reflect.get(target, name);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as PrismaClient;
    expect(poolOf(other)).toBeNull();
    const userId = await bed.user();
    const deviceId = await bed.device(userId);
    const first = [setOp(randomUUID(), "name", "A"), setOp(randomUUID(), "name", "B")];
    const second = [setOp(randomUUID(), "name", "C")];
    const stored = await pushOps(bed.prisma, userId, deviceId, first);
    expect(stored.results.map((r) => r.duplicate)).toEqual([false, false]);
    expect(stored.event?.ops.map((op) => op.id)).toEqual(stored.results.map((r) => r.id));
    const storedOther = await pushOps(other, userId, deviceId, second);
    expect(storedOther.results[0]?.duplicate).toBe(false);
    expect(storedOther.event?.afterId).toBe(stored.maxId);
    // Each retried through the other way: the ids they were stored under, stored once.
    const retried = await pushOps(other, userId, deviceId, first);
    expect(retried.results).toEqual(stored.results.map((r) => ({ ...r, duplicate: true })));
    expect(retried.event).toBeNull();
    const retriedOther = await pushOps(bed.prisma, userId, deviceId, second);
    expect(retriedOther.results).toEqual(
      storedOther.results.map((r) => ({ ...r, duplicate: true })),
    );
    const count = await bed.prisma.syncOp.count({ where: { userId } });
    expect(count).toBe(3);
  });

  it("stores entity ids and names that an array literal must quote, exactly as sent, either way", async () => {
    const other = new Proxy(bed.prisma, {
      get: (target, name) => {
        const value = Reflect.get(target, name);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as PrismaClient;
    const userId = await bed.user();
    const deviceId = await bed.device(userId);
    const awkward = ['a"b', "c\\d", "{x,y}", " NULL ", "NULL", "é😀", '\\"'];
    const ops = awkward.map((entityId, index) => ({
      ...setOp(entityId, index % 2 === 0 ? "null" : "title", entityId, "null"),
      ...(index === 3 ? { op: "delete" as const, field: null, value: null } : {}),
    }));
    const viaPool = await pushOps(bed.prisma, userId, deviceId, ops.slice(0, 4));
    const viaPrisma = await pushOps(other, userId, deviceId, ops.slice(4));
    const rows = await bed.prisma.syncOp.findMany({ where: { userId }, orderBy: { id: "asc" } });
    expect(rows.map((row) => [row.entity, row.entityId, row.field, row.op, row.value])).toEqual(
      ops.map((op) => [op.entity, op.entityId, op.field, op.op, op.value]),
    );
    expect([...viaPool.results, ...viaPrisma.results].map((r) => r.duplicate)).toEqual(
      ops.map(() => false),
    );
  });
});

describe("the push as a named prepared statement", () => {
  it("is prepared on the connections that pushed, and survives a push the statement refused", async () => {
    const pool = poolOf(bed.prisma);
    if (!pool) throw new Error("createPrisma's client has a pool");
    const userId = await bed.user();
    const deviceId = await bed.device(userId);
    const first = [setOp(randomUUID(), "name", "A")];
    const stored = await pushOps(bed.prisma, userId, deviceId, first);
    // Fails inside Postgres after the statement was parsed (not a uuid): the connection keeps
    // the statement, and the next pushes execute it without parsing it again.
    await expect(pushOps(bed.prisma, "not-a-uuid", deviceId, first)).rejects.toThrow(/uuid/);
    const second = await pushOps(bed.prisma, userId, deviceId, [setOp(randomUUID(), "name", "B")]);
    expect(second.event?.afterId).toBe(stored.maxId);
    const retried = await pushOps(bed.prisma, userId, deviceId, first);
    expect(retried.results).toEqual(stored.results.map((r) => ({ ...r, duplicate: true })));
    expect(await bed.prisma.syncOp.count({ where: { userId } })).toBe(2);

    const idle = await Promise.all(Array.from({ length: pool.idleCount }, () => pool.connect()));
    try {
      const prepared = await Promise.all(
        idle.map(async (client) => {
          const { rows } = await client.query<{ statement: string }>(
            "SELECT statement FROM pg_prepared_statements WHERE name = 'chorus_push_ops'",
          );
          return rows.map((row) => row.statement);
        }),
      );
      expect(prepared.flat().length).toBeGreaterThan(0);
      for (const statement of prepared.flat())
        expect(statement).toMatch(/FROM chorus_push_ops\(\$1::uuid, \$2::uuid, \$3::uuid\[\]/);
    } finally {
      for (const client of idle) client.release();
    }
  });
});

describe("the per-user lock", () => {
  it("is one key: a push waits while lockUser (compaction's lock) is held for its user", async () => {
    const userId = await bed.user();
    const deviceId = await bed.device(userId);
    let pushed = false;
    const lock = await bed.holdUserLock(userId);
    const push = pushOps(bed.prisma, userId, deviceId, [setOp(randomUUID(), "name", "B")]).then(
      (outcome) => {
        pushed = true;
        return outcome;
      },
    );
    await until("the push waits on the user's advisory lock", async () => {
      const rows = await bed.prisma.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
      return (rows[0]?.n ?? 0) > 0;
    });
    expect(pushed).toBe(false);
    await lock.release();
    expect((await push).results).toHaveLength(1);
  });
});
