import { AccountKey, openOp, sealOp } from "@chorus/crypto";
import { isSealedValue, type OpInput, type PushResult } from "@chorus/protocol";
import { TRPCClientError } from "@trpc/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EngineError } from "../errors.js";
import type { LibraryState } from "../library-state.js";
import type { Profile } from "../profiles.js";
import { allPending, quarantinedOps } from "../queue.js";
import { openTempProfile } from "../test-support.js";
import { fullJitterDelay } from "./backoff.js";
import { Drain } from "./drain.js";

const USER = "6f1c2b1e-4a7d-4c1e-9b8a-2f3e4d5c6b7a";
let fixture: ReturnType<typeof openTempProfile>;
let profile: Profile;
let library: LibraryState;
beforeEach(() => {
  fixture = openTempProfile();
  ({ profile, library } = fixture);
});
afterEach(() => fixture.dispose());

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

  it("quarantines the ops an invalid_input refusal names, with the reason, and sends the rest", async () => {
    queue(4);
    const [, poisoned] = allPending(profile.db);
    const sent: string[][] = [];
    const drain = new Drain({
      library,
      push: async (ops) => {
        sent.push(ops.map((op) => op.entityId));
        const index = ops.findIndex((op) => op.operationId === poisoned?.operationId);
        if (index >= 0) {
          throw Object.assign(new Error("bad request"), {
            data: {
              syncError: {
                type: "invalid_input",
                issues: [{ path: ["ops", index, "value", "name"], message: "contains U+0000" }],
                more: 0,
              },
            },
          });
        }
        return accepted(ops);
      },
      tokenRejected: () => {},
      onFailure: () => {},
      now: () => 7_000,
    });
    expect(await drain.pushNow()).toEqual({ status: "drained", pushed: 3 });
    expect(sent).toEqual([
      ["p0", "p1", "p2", "p3"],
      ["p0", "p2", "p3"],
    ]);
    expect(allPending(profile.db)).toHaveLength(0);
    expect(quarantinedOps(profile.db)).toEqual([
      expect.objectContaining({
        operationId: poisoned?.operationId,
        entityId: "p1",
        reason: "value.name: contains U+0000",
        quarantinedAt: 7_000,
      }),
    ]);
  });

  it("isolates an untyped 400 (an older server) op by op, and quarantines only the refused one", async () => {
    queue(3);
    const sent: number[] = [];
    const drain = new Drain({
      library,
      push: async (ops) => {
        sent.push(ops.length);
        if (ops.some((op) => op.entityId === "p1")) {
          throw new TRPCClientError("bad request", {
            result: {
              error: {
                message: "bad",
                code: -32600,
                data: { code: "BAD_REQUEST", httpStatus: 400 },
              },
            },
          });
        }
        return accepted(ops);
      },
      tokenRejected: () => {},
      onFailure: () => {},
    });
    expect(await drain.pushNow()).toEqual({ status: "drained", pushed: 2 });
    expect(sent).toEqual([3, 1, 1, 1]);
    expect(quarantinedOps(profile.db).map((op) => op.entityId)).toEqual(["p1"]);
  });

  it("on upgrade_required stops: no retry is scheduled until pushNow", async () => {
    queue(1);
    let pushes = 0;
    const drain = new Drain({
      library,
      push: async () => {
        pushes += 1;
        throw Object.assign(new Error("upgrade"), {
          data: {
            syncError: { type: "upgrade_required", clientVersion: 9, minVersion: 1, maxVersion: 1 },
          },
        });
      },
      tokenRejected: () => {},
      onFailure: () => {},
    });
    drain.start();
    await waitFor(() => drain.updateRequired);
    expect(drain.backingOff).toBe(false);
    drain.wake();
    expect(pushes).toBe(1);
    expect(allPending(profile.db)).toHaveLength(1);
    await drain.stop();
  });
});

async function waitFor(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met within 60 s");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("Drain with a seal (an encrypted account)", () => {
  it("pushes the sealed ops, sets aside one that cannot be sealed with the reason, and the rest flows", async () => {
    const key = AccountKey.generate(USER);
    queue(2);
    profile.db.transaction(() =>
      library.commitLocal(
        [
          {
            entity: "playlist",
            entityId: "big",
            field: "name",
            op: "set",
            // Fits one value in clear (60 KB < 64 KiB), not once sealed (about 4/3 of it).
            value: "x".repeat(60_000),
          },
        ],
        { capture: true },
      ),
    )();
    queue(1);
    const pushed: OpInput[] = [];
    const drain = new Drain({
      library,
      seal: (op) => sealOp(key, USER, op),
      push: async (ops) => {
        pushed.push(...ops);
        return accepted(ops);
      },
      tokenRejected: () => {},
      onFailure: () => {},
    });
    expect(await drain.pushNow()).toEqual({ status: "drained", pushed: 3 });
    expect(pushed).toHaveLength(3);
    for (const op of pushed) {
      expect(isSealedValue((op.value as Record<string, unknown>).name)).toBe(true);
      expect(openOp(key, USER, op).value).toMatchObject({ name: expect.stringMatching(/^P/) });
    }
    expect(allPending(profile.db)).toHaveLength(0);
    const setAside = quarantinedOps(profile.db);
    expect(setAside.map((op) => op.entityId)).toEqual(["big"]);
    expect(setAside[0]?.reason).toMatch(/^cannot be sealed: the sealed value is \d+ bytes/);
  });

  it("fails the drain and keeps every op queued when the seal has no key", async () => {
    queue(2);
    const failures: string[] = [];
    const drain = new Drain({
      library,
      seal: () => {
        throw new EngineError("encryption_locked", "enter the encryption password", {});
      },
      push: async () => {
        throw new Error("must not push");
      },
      tokenRejected: () => {},
      onFailure: (failure) => failures.push(failure.message),
    });
    const outcome = await drain.pushNow();
    expect(outcome.status).toBe("failed");
    expect(failures).toEqual(["enter the encryption password"]);
    expect(allPending(profile.db)).toHaveLength(2);
    await drain.stop();
  });
});
