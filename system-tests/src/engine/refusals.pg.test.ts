import { randomUUID } from "node:crypto";
import { createProfile, type DeviceEngine, isEngineError, openProfile } from "@chorus/desktop-sync";
import {
  allPending,
  createSyncClient,
  Drain,
  EngineFleet,
  enqueue,
  LibraryState,
  makeTempDir,
  type SyncLoop,
} from "@chorus/desktop-sync/testing";
import { waitUntil } from "@chorus/testing";
import { describe, expect, it } from "vitest";
import { engineSuite } from "../support/engine-suite.js";

/** The push limit of this protocol (MAX_BATCH_BYTES): 512 KiB of JSON. */
const MAX_BATCH_BYTES = 512 * 1024;
/** A protocol version from the future, which this server does not serve. */
const FUTURE_PROTOCOL_VERSION = 999;

const suite = engineSuite({ fleet: "test" });

const drained = (...engines: DeviceEngine[]) =>
  engines.every((engine) => engine.diagnostics().pendingCount === 0);

/**
 * Queues an op the way a build without the string rule did: straight into the queue,
 * unchecked (and folded nowhere: only its upload matters here).
 */
function queueUnchecked(engine: DeviceEngine, name: string): void {
  const db = engine.profile.db;
  db.transaction(() =>
    enqueue(
      db,
      {
        operationId: randomUUID(),
        lamportTs: engine.profile.clock.next(),
        entity: "playlist",
        entityId: randomUUID(),
        field: null,
        op: "insert",
        value: { name },
      },
      Date.now(),
    ),
  )();
}

describe("a poison op in the queue (a string PostgreSQL cannot store)", () => {
  it.each([
    ["U+0000", "Mix\u0000"],
    ["a lone surrogate", "Mix \uD83D"],
  ])(
    "with %s does not block later edits: it is quarantined with its reason, the rest syncs",
    async (_name, poison) => {
      const { account, a, b } = await suite.boundPair();
      const before = await a.createPlaylist("Before the poison");
      queueUnchecked(a, poison);
      const after = await a.createPlaylist("After the poison");
      expect(a.diagnostics().pendingCount).toBe(3);

      await a.start();
      await b.start();
      await waitUntil("a's queue flows past the poison", () => drained(a));
      await waitUntil(
        "b has both good edits",
        () => b.playlist(before.id) !== null && b.playlist(after.id) !== null,
      );
      expect(await suite.backend.ops(account.userId)).toHaveLength(2);
      const status = a.diagnostics();
      expect(status.quarantinedCount).toBe(1);
      expect(status.quarantined[0]).toMatchObject({ entity: "playlist", op: "insert" });
      expect(status.quarantined[0]?.reason).toMatch(/U\+0000|lone surrogate/);

      // And the queue keeps flowing for every edit after it.
      const later = await a.createPlaylist("Later still");
      await waitUntil("b has the later edit", () => b.playlist(later.id) !== null);
    },
  );
});

describe("the engine refuses to queue a poison string", () => {
  it("with a clear invalid_input error, writing nothing", async () => {
    suite.fleet = new EngineFleet();
    const a = suite.fleet.open("a");
    const error = await a.createPlaylist("Mix\u0000").catch((e: unknown) => e);
    expect(isEngineError(error) && error.code).toBe("invalid_input");
    expect((error as Error).message).toMatch(/U\+0000/);
    const lone = await a.addTrack({ title: "Song \uDE00" }).catch((e: unknown) => e);
    expect(isEngineError(lone) && lone.code).toBe("invalid_input");
    expect((lone as Error).message).toMatch(/lone surrogate/);
    expect(a.diagnostics().pendingCount).toBe(0);
    expect(a.playlists()).toEqual([]);
    expect(a.tracks()).toEqual([]);
  });
});

describe("a batch larger than the server takes", () => {
  it("over the socket's message bound, goes over HTTP and is answered payload_too_large (the socket stays up)", async () => {
    const account = await suite.backend.createAccount();
    const { session } = await account.device("big");
    let closes = 0;
    const client = createSyncClient(session, { onSocketClose: () => closes++ });
    let lamport = 0;
    const op = (notes: string) => ({
      operationId: randomUUID(),
      lamportTs: ++lamport,
      entity: "playlist",
      entityId: randomUUID(),
      field: null,
      op: "insert" as const,
      value: { name: "P", notes },
    });
    try {
      // The socket is up (a small push goes over it), and is watched from here on.
      await client.trpc.sync.push.mutate({ ops: [op("small")] });
      // 24 ops of ~50 KB: about 1.2 MB, over the socket's 1 MiB bound. Sent on the socket, the
      // server would close it (1009) without an answer, and the device would take that for
      // offline and send it again forever; over HTTP it gets the typed refusal to split on.
      const big = Array.from({ length: 24 }, () => op("x".repeat(50_000)));
      const refused = await client.trpc.sync.push.mutate({ ops: big }).catch((e: unknown) => e);
      const typed = (refused as { data?: { syncError?: { type?: string } } }).data?.syncError;
      expect(typed?.type).toBe("payload_too_large");
      expect(closes).toBe(0);
      expect(await suite.backend.ops(account.userId)).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it("is answered payload_too_large and halved until it goes through (real server)", async () => {
    const temp = makeTempDir();
    createProfile(temp.path, "big");
    const profile = openProfile(temp.path, "big");
    const account = await suite.backend.createAccount();
    const { session } = await account.device("big");
    const client = createSyncClient(session);
    try {
      const library = new LibraryState(profile.db, profile.clock, () => session.deviceId);
      // 12 ops of ~50 KB: each within MAX_VALUE_BYTES, together over MAX_BATCH_BYTES.
      profile.db.transaction(() => {
        for (let i = 0; i < 12; i++) {
          library.commitLocal(
            [
              {
                entity: "playlist",
                entityId: randomUUID(),
                field: null,
                op: "insert",
                value: { name: `P${i}`, notes: "x".repeat(50_000) },
              },
            ],
            { capture: true },
          );
        }
      })();
      const failures: string[] = [];
      const sizes: number[] = [];
      const drain = new Drain({
        library,
        push: (ops) => {
          sizes.push(ops.length);
          return client.trpc.sync.push.mutate({ ops });
        },
        tokenRejected: () => {},
        onFailure: (failure) => failures.push(failure.message),
        // A build that believes the server takes more than it does.
        maxBatchBytes: 4 * MAX_BATCH_BYTES,
      });
      const outcome = await drain.pushNow();
      expect(failures).toEqual([]);
      expect(outcome).toEqual({ status: "drained", pushed: 12 });
      // Halved on the typed answer (not sent one by one, as an untyped refusal would be).
      expect(sizes).toEqual([12, 6, 6]);
      expect(allPending(profile.db)).toHaveLength(0);
      expect(await suite.backend.ops(account.userId)).toHaveLength(12);
      await drain.stop();
    } finally {
      await client.close();
      profile.close();
      temp.remove();
    }
  });
});

describe("a build whose protocol version the server does not serve", () => {
  it("stops retrying and reports update required, keeping its edits queued", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const a = suite.fleet.open("a", { protocolVersion: FUTURE_PROTOCOL_VERSION });
    await a.bind((await account.device("a")).session);
    await a.createPlaylist("Made by a newer build");
    await a.start();
    await waitUntil("update required", () => a.diagnostics().connection === "update_required");
    const status = a.diagnostics();
    expect(status.lastError?.code).toBe("upgrade_required");
    expect(status.pendingCount).toBe(1);
    expect(await suite.backend.ops(account.userId)).toHaveLength(0);
    // No retry is scheduled: the drain waits for the user (pushNow) or an update. (Its state is
    // read directly: "never retries" has no event to wait for.)
    const drain = (a as unknown as { loop: SyncLoop | null }).loop?.drain;
    await waitUntil("the drain halted", () => drain?.updateRequired === true);
    expect(drain?.backingOff).toBe(false);
    // The loop's first call is the read of the account's key state (nothing is pushed before
    // it is known), so that call met the refusal and no push was tried.
    expect(allPending(a.profile.db)[0]?.attemptCount).toBe(0);
    // "Upload now" asks once more, and is told the same.
    const again = await a.pushNow();
    expect(again).toMatchObject({ status: "failed", failure: { kind: "sync" } });
    expect(a.diagnostics().lastError?.code).toBe("upgrade_required");
    expect(await suite.backend.ops(account.userId)).toHaveLength(0);
  });
});
