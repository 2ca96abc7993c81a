import type { OpInput, PushResult } from "@chorus/protocol";
import { waitUntil } from "@chorus/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { memoryTokenStore } from "../auth/token-store.js";
import { DeviceEngine } from "../engine.js";
import type { LibraryState } from "../library-state.js";
import { createProfile, type Profile } from "../profiles.js";
import { allPending } from "../queue.js";
import { markSyncedAt, readMeta } from "../store/meta.js";
import type { SqliteDatabase } from "../store/sqlite.js";
import {
  fakeSubscriptionClient,
  makeTempDir,
  openTempProfile,
  quietSubscriber,
  remotePlaylistOp as remoteOp,
} from "../test-support.js";
import { Drain } from "./drain.js";
import { applyRemoteBatch } from "./subscriber.js";

/**
 * Which commits wait for the disk (ADR 0021): a local edit does, and so does the cursor before
 * it is ACKed; remote ops applied and ops removed from the queue once pushed do not, so that a
 * busy disk holds up neither a remote op on its way to the screen nor the next push.
 * `synchronous` is read inside each write transaction: 2 is FULL (the COMMIT waits for the
 * WAL to be stored), 1 is NORMAL (it does not).
 */
const FULL = 2;
const NORMAL = 1;

let fixture: ReturnType<typeof openTempProfile>;
let profile: Profile;
let library: LibraryState;
/** The `synchronous` level inside each transaction the code under test ran, in order. */
let levels: number[];

function watchTransactions(db: SqliteDatabase): void {
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...args: unknown[]) => unknown) =>
    transaction((...args: unknown[]) => {
      levels.push(db.pragma("synchronous", { simple: true }) as number);
      return fn(...args);
    })) as typeof db.transaction;
}

beforeEach(() => {
  fixture = openTempProfile();
  ({ profile, library } = fixture);
  levels = [];
  watchTransactions(profile.db);
});
afterEach(() => fixture.dispose());

function editLocally(name: string): void {
  profile.db.transaction(() => {
    library.commitLocal(
      [{ entity: "playlist", entityId: name, field: null, op: "insert", value: { name } }],
      { capture: true },
    );
  })();
}

const level = () => profile.db.pragma("synchronous", { simple: true }) as number;

describe("which commits wait for the disk", () => {
  it("a remote batch is applied without waiting for the disk, and the connection waits again after it", () => {
    expect(level()).toBe(FULL);
    const applied = applyRemoteBatch(library, [remoteOp(1), remoteOp(2)], undefined);
    expect(applied.map((op) => op.id)).toEqual([1, 2]);
    expect(levels).toEqual([NORMAL]);
    expect(level()).toBe(FULL);
    expect(library.cursor()).toBe(2);
  });

  it("a local edit still waits for the disk", () => {
    applyRemoteBatch(library, [remoteOp(1)], undefined);
    levels = [];
    editLocally("mine");
    expect(levels).toEqual([FULL]);
  });

  it("the cursor is stored for good before it is ACKed: a waiting commit that writes to the WAL", async () => {
    const acks: Array<{ cursor: number; levelsBefore: number[] }> = [];
    const { client, feed } = fakeSubscriptionClient(async (lastSeenId) => {
      acks.push({ cursor: lastSeenId, levelsBefore: [...levels] });
    });
    const subscriber = quietSubscriber({ client, library });
    subscriber.start();
    const wal = `${profile.db.name}-wal`;
    const { statSync } = await import("node:fs");
    feed.deliver?.(remoteOp(1));
    await waitUntil("the ACK of the applied op", () => acks.length === 1);
    await subscriber.stop();
    // The apply (relaxed), then the cursor written again by a commit that waits: the WAL is
    // stored in order, so that stores the apply too.
    expect(acks[0]).toEqual({ cursor: 1, levelsBefore: [NORMAL, FULL] });
    // A commit that wrote nothing would not have waited for anything: it grew the WAL.
    const before = statSync(wal).size;
    levels = [];
    expect(library.durableCursor()).toBe(1);
    expect(levels).toEqual([FULL]);
    expect(statSync(wal).size).toBeGreaterThan(before);
  });

  it("the time changes last moved is remembered without waiting for the disk (it is written before remote ops are announced)", () => {
    const at = new Date("2026-12-01T10:00:00.000Z");
    markSyncedAt(profile.db, at);
    expect(readMeta(profile.db, "last_sync_at")).toBe(at.toISOString());
    expect(levels).toEqual([NORMAL]);
    expect(level()).toBe(FULL);
  });

  it("ops the server stored leave the queue without waiting for the disk", async () => {
    editLocally("a");
    editLocally("b");
    levels = [];
    const drain = new Drain({
      library,
      push: async (ops: OpInput[]): Promise<PushResult> => ({
        results: ops.map((op, i) => ({ operationId: op.operationId, id: i + 1, duplicate: false })),
        maxId: ops.length,
      }),
      tokenRejected: () => {},
      onFailure: () => {},
    });
    const outcome = await drain.pushNow();
    await drain.stop();
    expect(outcome).toEqual({ status: "drained", pushed: 2 });
    expect(allPending(profile.db)).toEqual([]);
    expect(levels).toEqual([NORMAL]);
    expect(level()).toBe(FULL);
  });
});

describe("an engine's local edits", () => {
  it("commit waiting for the disk, also after a commit that did not wait", async () => {
    const temp = makeTempDir();
    createProfile(temp.path, "main");
    const seen: number[] = [];
    let db: SqliteDatabase | null = null;
    const engine = DeviceEngine.open({
      dataDir: temp.path,
      profile: "main",
      tokenStore: memoryTokenStore(),
      hooks: {
        afterDomainWrite() {
          seen.push(db?.pragma("synchronous", { simple: true }) as number);
        },
      },
    });
    db = engine.profile.db;
    try {
      const { id } = await engine.createPlaylist("first");
      markSyncedAt(db, new Date());
      await engine.renamePlaylist(id, "second");
      expect(seen).toEqual([FULL, FULL]);
    } finally {
      await engine.close();
      temp.remove();
    }
  });
});
