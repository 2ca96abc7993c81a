import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type DeviceLookup, DeviceStatusCache } from "../src/devices/status-cache.js";

const TTL = 5_000;
const USER = "00000000-0000-4000-8000-000000000001";
const A = "00000000-0000-4000-8000-00000000000a";
const B = "00000000-0000-4000-8000-00000000000b";

interface Row {
  id: string;
  userId: string;
  revokedAt: Date | null;
}

/**
 * The devices table as the cache reads it. `hold()` keeps the next queries unanswered until
 * `release()`, so a test can revoke a device while a lookup of it is in flight.
 */
function fakeDevices(rows: Row[]) {
  const table = new Map(rows.map((row) => [row.id, { ...row }]));
  const calls = { findUnique: 0, findMany: 0, ids: [] as string[][] };
  let held: Array<() => void> | null = null;
  // The rows are read when the query is sent; a held answer arrives later.
  const answer = <T>(read: () => T): Promise<T> =>
    new Promise((resolve) => {
      const result = read();
      const run = () => resolve(result);
      if (held) held.push(run);
      else queueMicrotask(run);
    });
  const prisma = {
    device: {
      findUnique: ({ where }: { where: { id: string } }) => {
        calls.findUnique++;
        return answer(() => {
          const row = table.get(where.id);
          return row ? { userId: row.userId, revokedAt: row.revokedAt } : null;
        });
      },
      findMany: ({ where }: { where: { id: { in: string[] } } }) => {
        calls.findMany++;
        calls.ids.push([...where.id.in]);
        return answer(() =>
          where.id.in.flatMap((id) => {
            const row = table.get(id);
            return row ? [{ ...row }] : [];
          }),
        );
      },
    },
  } as unknown as DeviceLookup;
  return {
    prisma,
    calls,
    table,
    revoke(id: string, at = new Date()) {
      (table.get(id) as Row).revokedAt = at;
    },
    hold() {
      held = [];
    },
    release() {
      const waiting = held ?? [];
      held = null;
      for (const run of waiting) run();
    },
  };
}

describe("DeviceStatusCache", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const rows = (): Row[] => [
    { id: A, userId: USER, revokedAt: null },
    { id: B, userId: USER, revokedAt: null },
  ];

  it("answers calls within the TTL from one lookup", async () => {
    const db = fakeDevices(rows());
    const cache = new DeviceStatusCache(db.prisma, TTL);
    const [first, second] = await Promise.all([cache.status(A), cache.status(A)]);
    expect(first).toEqual({ userId: USER, revokedAt: null });
    expect(second).toEqual(first);
    await vi.advanceTimersByTimeAsync(TTL / 4);
    expect(await cache.status(A)).toEqual(first);
    expect(db.calls.findUnique).toBe(1);
  });

  it("reads the devices still calling again in one query, before their entries expire", async () => {
    const db = fakeDevices(rows());
    const cache = new DeviceStatusCache(db.prisma, TTL);
    await cache.status(A);
    await cache.status(B);
    // Both keep calling, past several TTLs: no call waits for a lookup of its own.
    for (let step = 0; step < 12; step++) {
      await vi.advanceTimersByTimeAsync(TTL / 4);
      await cache.status(A);
      await cache.status(B);
    }
    expect(db.calls.findUnique).toBe(2);
    expect(db.calls.findMany).toBeGreaterThanOrEqual(5);
    expect(db.calls.ids.every((ids) => ids.length === 2)).toBe(true);
  });

  it("reads many devices again in queries of at most 1,000", async () => {
    const many = Array.from({ length: 2_500 }, (_, index) => ({
      id: `00000000-0000-4000-8000-${String(index).padStart(12, "0")}`,
      userId: USER,
      revokedAt: null,
    }));
    const db = fakeDevices(many);
    const cache = new DeviceStatusCache(db.prisma, TTL);
    for (const { id } of many) await cache.status(id);
    await vi.advanceTimersByTimeAsync(TTL / 4);
    for (const { id } of many) await cache.status(id);
    await vi.advanceTimersByTimeAsync(TTL / 4);
    expect(db.calls.ids.map((ids) => ids.length)).toEqual([1_000, 1_000, 500]);
  });

  it("never answers from a read older than the TTL, refreshed or not", async () => {
    const db = fakeDevices(rows());
    const cache = new DeviceStatusCache(db.prisma, TTL);
    await cache.status(A);
    const revokedAt = new Date("2026-12-01T12:00:00Z");
    // Revoked in the database behind the cache's back (no invalidation reaches it).
    db.revoke(A, revokedAt);
    let seenAt = -1;
    for (let elapsed = 0; elapsed <= 2 * TTL; elapsed += 250) {
      const status = await cache.status(A);
      if (status?.revokedAt) {
        seenAt = elapsed;
        break;
      }
      await vi.advanceTimersByTimeAsync(250);
    }
    expect(seenAt).toBeGreaterThanOrEqual(0);
    expect(seenAt).toBeLessThanOrEqual(TTL);
    expect((await cache.status(A))?.revokedAt).toEqual(revokedAt);
  });

  it("looks a device up again once unused past the TTL, and queries nothing while idle", async () => {
    const db = fakeDevices(rows());
    const cache = new DeviceStatusCache(db.prisma, TTL);
    await cache.status(A);
    await vi.advanceTimersByTimeAsync(10 * TTL);
    const queries = db.calls.findUnique + db.calls.findMany;
    await vi.advanceTimersByTimeAsync(10 * TTL);
    expect(db.calls.findUnique + db.calls.findMany).toBe(queries);
    expect(vi.getTimerCount()).toBe(0);
    await cache.status(A);
    expect(db.calls.findUnique).toBe(2);
  });

  it("a lookup in flight when its device is revoked does not cache the old status", async () => {
    const db = fakeDevices(rows());
    const cache = new DeviceStatusCache(db.prisma, TTL);
    db.hold();
    const racing = cache.status(A);
    // Revoked after the lookup read the row and before its answer arrived.
    db.revoke(A);
    cache.invalidate(A);
    db.release();
    expect(await racing).toEqual({ userId: USER, revokedAt: null });
    expect((await cache.status(A))?.revokedAt).not.toBeNull();
  });

  it("a refresh in flight when a device is revoked does not cache the old status", async () => {
    const db = fakeDevices(rows());
    const cache = new DeviceStatusCache(db.prisma, TTL);
    await cache.status(A);
    await vi.advanceTimersByTimeAsync(TTL / 4);
    await cache.status(A);
    db.hold();
    await vi.advanceTimersByTimeAsync(TTL / 4);
    expect(db.calls.findMany).toBe(1);
    db.revoke(A);
    cache.invalidate(A);
    db.release();
    await vi.advanceTimersByTimeAsync(0);
    expect((await cache.status(A))?.revokedAt).not.toBeNull();
  });
});
