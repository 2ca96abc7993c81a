import type { PullResult, SyncOp } from "@chorus/protocol";
import { waitUntil } from "@chorus/testing";
import { TRPCClientError } from "@trpc/client";
import { afterEach, describe, expect, it } from "vitest";
import { remotePlaylistOp as op } from "../test-support.js";
import { DEFAULT_POLL_POLICY, Poller, type PollerDeps, pollDelay } from "./poller.js";

function syncError(syncError: Record<string, unknown>): Error {
  return Object.assign(new Error(String(syncError.type)), { data: { syncError } });
}

const policy = { intervalMs: 5_000, maxMs: 60_000 };

describe("pollDelay", () => {
  it("while polls are answered: the interval, ±20 %", () => {
    expect(pollDelay(0, policy, null, () => 0)).toBe(4_000);
    expect(pollDelay(0, policy, null, () => 0.5)).toBe(5_000);
    expect(pollDelay(0, policy, null, () => 0.999_999)).toBe(6_000);
  });

  it("after failures: doubles from twice the interval, never below half of it, capped", () => {
    const low = (n: number) => pollDelay(n, policy, null, () => 0);
    const high = (n: number) => pollDelay(n, policy, null, () => 0.999_999);
    expect([1, 2, 3, 4, 5].map(low)).toEqual([5_000, 10_000, 20_000, 30_000, 30_000]);
    expect([1, 2, 3, 4, 5].map(high)).toEqual([10_000, 20_000, 40_000, 60_000, 60_000]);
    expect(high(1_000)).toBe(60_000);
  });

  it("a rate_limited answer: what the server asked, plus the backoff", () => {
    const failure = {
      kind: "sync" as const,
      error: { type: "rate_limited" as const, retryAfterMs: 7_000 },
      message: "slow down",
    };
    expect(pollDelay(1, policy, failure, () => 0)).toBe(12_000);
  });

  it("the default polls every few seconds and waits at most a minute", () => {
    expect(DEFAULT_POLL_POLICY).toEqual({ intervalMs: 5_000, maxMs: 60_000 });
  });
});

/** A server log of `ops`, pulled in pages of `pageSize`, and what the poller did with it. */
function fakeServer(ops: SyncOp[], pageSize = 2) {
  const seen = {
    cursor: 0,
    applied: [] as number[],
    acks: [] as number[],
    pulls: [] as number[],
    polled: 0,
    offline: 0,
    resync: [] as number[],
    updateRequired: 0,
    failures: [] as string[],
    tokenRejected: 0,
  };
  let failNext: Error[] = [];
  const deps: PollerDeps = {
    pull: async (since) => {
      seen.pulls.push(since);
      const error = failNext.shift();
      if (error) throw error;
      const after = ops.filter((o) => o.id > since);
      const page = after.slice(0, pageSize);
      return {
        ops: page,
        nextSince: page.at(-1)?.id ?? since,
        hasMore: after.length > page.length,
      } satisfies PullResult;
    },
    ack: async (cursor) => {
      seen.acks.push(cursor);
      return { lastSeenId: cursor };
    },
    cursor: () => seen.cursor,
    // As applyRemoteBatch: ops at or below the cursor are skipped, the cursor moves with them.
    apply: (page) => {
      for (const o of page) {
        if (o.id <= seen.cursor) continue;
        seen.applied.push(o.id);
        seen.cursor = o.id;
      }
    },
    onPolled: () => {
      seen.polled += 1;
    },
    onOffline: () => {
      seen.offline += 1;
    },
    onFailure: (failure) => {
      seen.failures.push(failure.kind);
    },
    onResyncRequired: (compactedUpTo) => {
      seen.resync.push(compactedUpTo);
    },
    onUpdateRequired: () => {
      seen.updateRequired += 1;
    },
    onKeyNeeded: () => {},
    tokenRejected: () => {
      seen.tokenRejected += 1;
    },
    policy: { intervalMs: 10, maxMs: 40 },
  };
  return {
    deps,
    seen,
    failWith: (...errors: Error[]) => {
      failNext = errors;
    },
  };
}

let poller: Poller | null = null;
afterEach(async () => {
  await poller?.stop();
  poller = null;
});

describe("Poller", () => {
  it("pulls every page after the cursor, applies them in order, then ACKs the cursor once", async () => {
    const server = fakeServer([1, 2, 3, 4, 5].map(op));
    poller = new Poller(server.deps);
    poller.start();
    await waitUntil("polled", () => server.seen.polled >= 1);
    expect(server.seen.applied).toEqual([1, 2, 3, 4, 5]);
    expect(server.seen.pulls.slice(0, 3)).toEqual([0, 2, 4]);
    expect(server.seen.acks).toEqual([5]);
    expect(poller.healthy).toBe(true);
    // Later polls find nothing new and send no ACK again.
    await waitUntil("polled again", () => server.seen.polled >= 3);
    expect(server.seen.acks).toEqual([5]);
  });

  it("a failed pull: offline, backs off, and the next answered poll is healthy again", async () => {
    const server = fakeServer([op(1)]);
    server.failWith(new Error("fetch failed"), new Error("fetch failed"));
    poller = new Poller(server.deps);
    poller.start();
    await waitUntil("polled", () => server.seen.polled >= 1);
    expect(server.seen.offline).toBe(2);
    expect(server.seen.failures).toEqual(["offline", "offline"]);
    expect(server.seen.applied).toEqual([1]);
    expect(poller.healthy).toBe(true);
  });

  it("a cursor below the watermark: asks for a full resync and stops", async () => {
    const server = fakeServer([op(1)]);
    server.failWith(syncError({ type: "resync_required", compactedUpTo: 9 }));
    poller = new Poller(server.deps);
    poller.start();
    await waitUntil("resync asked", () => server.seen.resync.length === 1);
    expect(server.seen.resync).toEqual([9]);
    expect(poller.running).toBe(false);
  });

  it("upgrade_required and revoked stop it: no more pulls", async () => {
    for (const error of [
      syncError({ type: "upgrade_required", clientVersion: 9, minVersion: 1, maxVersion: 1 }),
      syncError({ type: "device_revoked" }),
    ]) {
      const server = fakeServer([op(1)]);
      server.failWith(error);
      poller = new Poller(server.deps);
      poller.start();
      await waitUntil("refused", () => server.seen.failures.length === 1);
      expect(poller.running).toBe(false);
      const pulls = server.seen.pulls.length;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(server.seen.pulls.length).toBe(pulls);
      expect(server.seen.applied).toEqual([]);
    }
  });

  it("a refused token is dropped and the pull asked again at once", async () => {
    const server = fakeServer([op(1)]);
    server.failWith(
      new TRPCClientError("UNAUTHORIZED", {
        result: {
          error: {
            message: "UNAUTHORIZED",
            code: -32600,
            data: { code: "UNAUTHORIZED", httpStatus: 401 },
          },
        },
      }),
    );
    poller = new Poller(server.deps);
    poller.start();
    await waitUntil("polled", () => server.seen.polled >= 1);
    expect(server.seen.tokenRejected).toBe(1);
    expect(server.seen.offline).toBe(0);
    expect(server.seen.pulls.slice(0, 2)).toEqual([0, 0]);
    expect(server.seen.applied).toEqual([1]);
  });

  it("stop: nothing is pulled or applied after it", async () => {
    const server = fakeServer([op(1)]);
    poller = new Poller(server.deps);
    poller.start();
    await poller.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.seen.pulls).toEqual([]);
    expect(poller.running).toBe(false);
  });
});
