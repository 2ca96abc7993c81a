import { type PullResult, type SyncOp, SyncProtocolError, syncError } from "@chorus/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LamportClock } from "../clock.js";
import { LibraryState } from "../library-state.js";
import type { Profile } from "../profiles.js";
import { openTempProfile } from "../test-support.js";
import { rebuildFromServer } from "./resync.js";

const DEVICE = "0b7a1f2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
let fixture: ReturnType<typeof openTempProfile>;
let profile: Profile;
beforeEach(() => {
  fixture = openTempProfile();
  ({ profile } = fixture);
});
afterEach(() => fixture.dispose());

/** `count` field sets with ids 1..count; the Lamport stamps are not in id order. */
function log(count: number, stamp: (id: number) => number): SyncOp[] {
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    deviceId: DEVICE,
    operationId: `00000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`,
    lamportTs: stamp(i + 1),
    entity: "playlist",
    entityId: `p${(i + 1) % 7}`,
    field: "name",
    op: "set",
    value: `name ${i + 1}`,
    createdAt: "2026-12-01T00:00:00.000Z",
  }));
}

/** A server holding `ops`, answering pages of `since`/`limit` as sync.pull does. */
function serve(ops: SyncOp[], onPull: (since: number) => void = () => {}) {
  return async (input: { since: number; limit: number }): Promise<PullResult> => {
    onPull(input.since);
    await new Promise((resolve) => setTimeout(resolve, 1));
    const page = ops.filter((op) => op.id > input.since).slice(0, input.limit);
    return {
      ops: page,
      nextSince: page.at(-1)?.id ?? input.since,
      hasMore: ops.some((op) => op.id > (page.at(-1)?.id ?? input.since)),
    };
  };
}

const tempTables = () =>
  profile.db.prepare("SELECT name FROM sqlite_temp_master WHERE type = 'table'").pluck().all();

describe("rebuildFromServer", () => {
  it("asks for the next page before folding the page it has, so the request overlaps the fold", async () => {
    const ops = log(50, (id) => id);
    const library = new LibraryState(profile.db, profile.clock, () => DEVICE);
    // Ops folded (the `pulling` progress, reported once a page is folded) when each page
    // after the first was asked for.
    let folded = 0;
    const foldedWhenAsked = new Map<number, number>();
    const result = await rebuildFromServer({
      library,
      pageSize: 10,
      pull: serve(ops, (since) => {
        if (since > 0) foldedWhenAsked.set(since, folded);
      }),
      onProgress: (progress) => {
        if (progress.phase === "pulling") folded = progress.done;
      },
    });
    expect(result).toEqual({ ops: 50, cursor: 50 });
    // Page k+1 (since = 10k) is asked for while page k is not folded yet: k - 1 pages are.
    expect([...foldedWhenAsked]).toEqual([
      [10, 0],
      [20, 10],
      [30, 20],
      [40, 30],
    ]);
    expect(library.cursor()).toBe(50);
  });

  it("raises the Lamport clock to the highest pulled stamp once per rebuild, not once per op", async () => {
    // 1,200 ops (two pages); the highest stamp is in the middle of the log.
    const ops = log(1_200, (id) => (id === 600 ? 9_000 : id));
    let observed = 0;
    const clock: LamportClock = {
      current: () => profile.clock.current(),
      next: () => profile.clock.next(),
      observe: (remote) => {
        observed += 1;
        return profile.clock.observe(remote);
      },
    };
    const library = new LibraryState(profile.db, clock, () => DEVICE);
    const result = await rebuildFromServer({
      library,
      pull: serve(ops),
      onProgress: () => {},
    });
    expect(result.ops).toBe(1_200);
    expect(profile.clock.current()).toBe(9_000);
    expect(observed).toBe(1);
  });

  it("starts again from 0 when compaction passes its position mid-pull, the page it had asked ahead for included", async () => {
    // The first five ops write registers of their own, with the newest stamps: folded before
    // the restart, they must be gone from the rebuilt library (compaction removed them).
    let log_ = log(50, (id) => id).map((op) =>
      op.id <= 5 ? { ...op, entityId: `gone${op.id}`, lamportTs: 1_000 + op.id } : op,
    );
    const asked: number[] = [];
    let compacted = false;
    const library = new LibraryState(profile.db, profile.clock, () => DEVICE);
    const result = await rebuildFromServer({
      library,
      pageSize: 10,
      pull: async (input) => {
        asked.push(input.since);
        if (input.since === 30 && !compacted) {
          // Compaction deleted the first five ops and raised the watermark past 30.
          compacted = true;
          log_ = log_.slice(5);
          throw new SyncProtocolError(syncError("resync_required", { compactedUpTo: 31 }));
        }
        return serve(log_)(input);
      },
      onProgress: () => {},
    });
    expect(asked).toEqual([0, 10, 20, 30, 0, 15, 25, 35, 45]);
    expect(result).toEqual({ ops: 45, cursor: 50 });
    const entities = profile.db
      .prepare("SELECT entity_id FROM lww_entity ORDER BY entity_id")
      .pluck()
      .all();
    expect(entities).toEqual(["p0", "p1", "p2", "p3", "p4", "p5", "p6"]);
    // The clock saw only the ops of the log the library was rebuilt from.
    expect(profile.clock.current()).toBe(50);
    expect(tempTables()).toEqual([]);
    expect(library.cursor()).toBe(50);
  });
});
