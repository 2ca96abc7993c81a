import type { SyncOp } from "@chorus/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Page, ResyncReadAhead } from "../src/sync/read-ahead.js";

const USER = "u1";

/** An account of `count` ops with ids 1..count, paged as readPage pages it. */
function account(count: number) {
  const reads: Array<{ userId: string; since: number; limit: number }> = [];
  const failing = new Set<number>();
  const read = async (userId: string, since: number, limit: number): Promise<Page> => {
    reads.push({ userId, since, limit });
    if (failing.delete(since)) throw new Error(`the read after ${since} failed`);
    const ops: SyncOp[] = [];
    for (let id = since + 1; id <= Math.min(count, since + limit); id++) {
      ops.push({ id } as SyncOp);
    }
    return { ops, more: since + limit < count };
  };
  return { read, reads, failing };
}

const ids = (page: Page) => page.ops.map((op) => op.id);

afterEach(() => {
  vi.useRealTimers();
});

describe("ResyncReadAhead", () => {
  it("reads the next page as soon as a page with more is answered, and answers it without reading again", async () => {
    const { read, reads } = account(25);
    const pages = new ResyncReadAhead(read);
    const first = await pages.page(USER, 0, 10);
    expect(ids(first)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // The second page was asked of the database before anyone asked for it.
    expect(reads.map((r) => r.since)).toEqual([0, 10]);
    expect(pages.size).toBe(1);
    const second = await pages.page(USER, 10, 10);
    expect(ids(second)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    const third = await pages.page(USER, 20, 10);
    expect(ids(third)).toEqual([21, 22, 23, 24, 25]);
    expect(third.more).toBe(false);
    // Each page read once; nothing read ahead past the last page.
    expect(reads.map((r) => r.since)).toEqual([0, 10, 20]);
    expect(pages.size).toBe(0);
  });

  it("answers a held page only to the same user, position and limit", async () => {
    const { read, reads } = account(30);
    const pages = new ResyncReadAhead(read);
    await pages.page(USER, 0, 10);
    await pages.page("u2", 10, 10);
    await pages.page(USER, 10, 5);
    expect(reads.map((r) => `${r.userId}@${r.since}/${r.limit}`)).toEqual([
      "u1@0/10",
      "u1@10/10",
      "u2@10/10",
      "u2@20/10",
      "u1@10/5",
      "u1@15/5",
    ]);
  });

  it("reads a page again for the request when its read ahead failed", async () => {
    const { read, reads, failing } = account(25);
    failing.add(10);
    const pages = new ResyncReadAhead(read);
    await pages.page(USER, 0, 10);
    const second = await pages.page(USER, 10, 10);
    expect(ids(second)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(reads.map((r) => r.since)).toEqual([0, 10, 10, 20]);
  });

  it("drops a page nobody asked for within heldMs", async () => {
    vi.useFakeTimers();
    const { read, reads } = account(25);
    const pages = new ResyncReadAhead(read, { heldMs: 1_000 });
    await pages.page(USER, 0, 10);
    expect(pages.size).toBe(1);
    await vi.advanceTimersByTimeAsync(1_001);
    expect(pages.size).toBe(0);
    await pages.page(USER, 10, 10);
    // Read again when it was asked for after all.
    expect(reads.map((r) => r.since)).toEqual([0, 10, 10, 20]);
  });

  it("holds at most maxHeld pages", async () => {
    const { read } = account(100);
    const pages = new ResyncReadAhead(read, { maxHeld: 2 });
    for (const user of ["a", "b", "c", "d"]) await pages.page(user, 0, 10);
    expect(pages.size).toBe(2);
    await pages.stop();
    expect(pages.size).toBe(0);
  });
});
