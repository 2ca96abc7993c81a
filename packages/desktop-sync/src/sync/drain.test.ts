import type { OpInput, PushResult } from "@chorus/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LibraryState } from "../library-state.js";
import { createProfile, openProfile, type Profile } from "../profiles.js";
import { allPending } from "../queue.js";
import { makeTempDir } from "../test-support.js";
import { fullJitterDelay } from "./backoff.js";
import { Drain } from "./drain.js";

let temp: ReturnType<typeof makeTempDir>;
let profile: Profile;
let library: LibraryState;
beforeEach(() => {
  temp = makeTempDir();
  createProfile(temp.path, "main");
  profile = openProfile(temp.path, "main");
  library = new LibraryState(profile.db, profile.clock, () => profile.deviceId);
});
afterEach(() => {
  profile.close();
  temp.remove();
});

function queue(count: number): void {
  profile.db.transaction(() => {
    for (let i = 0; i < count; i++) {
      library.commitLocal(
        [
          {
            entity: "playlist",
            entityId: `p${i}`,
            field: null,
            op: "insert",
            value: { name: `P${i}` },
          },
        ],
        { capture: true },
      );
    }
  })();
}

const accepted = (ops: OpInput[]): PushResult => ({
  results: ops.map((op, i) => ({ operationId: op.operationId, id: i + 1, duplicate: false })),
  maxId: ops.length,
});

describe("fullJitterDelay", () => {
  it("is uniform below an exponentially growing ceiling, capped", () => {
    const policy = { baseMs: 100, maxMs: 1_000 };
    expect(fullJitterDelay(1, policy, () => 0.999)).toBe(99);
    expect(fullJitterDelay(3, policy, () => 0.5)).toBe(200);
    expect(fullJitterDelay(30, policy, () => 0.999)).toBe(999);
    expect(fullJitterDelay(4, policy, () => 0)).toBe(0);
  });
});

describe("Drain", () => {
  it("pushes in FIFO batches of at most maxOpsPerBatch, one push at a time, deleting what the server stored", async () => {
    queue(7);
    const order = allPending(profile.db).map((op) => op.operationId);
    const batches: string[][] = [];
    let inFlight = 0;
    let overlapped = false;
    const drain = new Drain({
      library,
      maxOpsPerBatch: 3,
      push: async (ops) => {
        overlapped ||= inFlight > 0;
        inFlight += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight -= 1;
        batches.push(ops.map((op) => op.operationId));
        return accepted(ops);
      },
      tokenRejected: () => {},
      onFailure: () => {},
    });
    const runs = [drain.pushNow(), drain.pushNow(), drain.pushNow()];
    await Promise.all(runs);
    expect(overlapped).toBe(false);
    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
    expect(batches.flat()).toEqual(order);
    expect(allPending(profile.db)).toHaveLength(0);
  });

  it("marks a failed batch and keeps it; the retry sends the same operation ids", async () => {
    queue(2);
    const sent: string[][] = [];
    let fail = true;
    const failures: string[] = [];
    const drain = new Drain({
      library,
      push: async (ops) => {
        sent.push(ops.map((op) => op.operationId));
        if (fail) throw new TypeError("fetch failed");
        return accepted(ops);
      },
      tokenRejected: () => {},
      onFailure: (failure) => failures.push(failure.kind),
      now: () => 1_234,
    });
    const outcome = await drain.pushNow();
    expect(outcome.status).toBe("failed");
    expect(failures).toEqual(["offline"]);
    expect(
      allPending(profile.db).map((op) => [op.attemptCount, op.lastAttemptAt, op.lastError]),
    ).toEqual([
      [1, 1_234, "the sync server cannot be reached (fetch failed)"],
      [1, 1_234, "the sync server cannot be reached (fetch failed)"],
    ]);
    fail = false;
    expect((await drain.pushNow()).status).toBe("drained");
    expect(sent[1]).toEqual(sent[0]);
    await drain.stop();
  });

  it("on lamport_regression observes the stored maximum, re-stamps the queue in FIFO order and retries", async () => {
    queue(3);
    const before = allPending(profile.db);
    const pushed: OpInput[][] = [];
    const drain = new Drain({
      library,
      push: async (ops) => {
        pushed.push(ops);
        if (pushed.length === 1) {
          throw Object.assign(new Error("conflict"), {
            data: { syncError: { type: "lamport_regression", storedMax: 40 } },
          });
        }
        return accepted(ops);
      },
      tokenRejected: () => {},
      onFailure: () => {},
    });
    expect((await drain.pushNow()).status).toBe("drained");
    const retried = pushed[1] ?? [];
    expect(retried.map((op) => op.lamportTs)).toEqual([41, 42, 43]);
    expect(retried.map((op) => op.entityId)).toEqual(before.map((op) => op.entityId));
    expect(profile.clock.current()).toBe(43);
  });
});
