import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SyncOp } from "@chorus/protocol";
import { LibraryState } from "./library-state.js";
import { createProfile, openProfile, type Profile } from "./profiles.js";
import type { SyncClient } from "./sync/client.js";
import { Subscriber, type SubscriberDeps } from "./sync/subscriber.js";

/** A fresh folder per test, removed afterwards; tests use real SQLite files in it. */
export function makeTempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), "chorus-desktop-sync-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A fresh profile "main" in its own temporary folder, opened, with a library over it whose
 * device id is the profile's unless `deviceId` says otherwise; `dispose` closes it and removes
 * the folder. For a test file's beforeEach / afterEach.
 */
export function openTempProfile(deviceId?: () => string): {
  profile: Profile;
  library: LibraryState;
  dispose(): void;
} {
  const temp = makeTempDir();
  createProfile(temp.path, "main");
  const profile = openProfile(temp.path, "main");
  const library = new LibraryState(profile.db, profile.clock, deviceId ?? (() => profile.deviceId));
  return {
    profile,
    library,
    dispose() {
      profile.close();
      temp.remove();
    },
  };
}

/** A Subscriber whose callbacks do nothing, ACKing at once unless `options` say otherwise. */
export function quietSubscriber(
  options: Pick<SubscriberDeps, "client" | "library"> & Partial<SubscriberDeps>,
): Subscriber {
  return new Subscriber({
    onApplied: () => {},
    onResyncRequired: () => {},
    onState: () => {},
    onFailure: () => {},
    tokenRejected: () => {},
    ackDebounceMs: 0,
    ...options,
  });
}

/** An op as the server sends it: the insert of playlist `p<id>` by another device, id `id`. */
export function remotePlaylistOp(id: number): SyncOp {
  return {
    id,
    userId: "u",
    deviceId: "other",
    operationId: `op-${id}`,
    entity: "playlist",
    entityId: `p${id}`,
    field: null,
    op: "insert",
    value: { name: `P${id}` },
    lamportTs: id,
    createdAt: new Date(0).toISOString(),
  } as unknown as SyncOp;
}

/**
 * A sync client whose subscription delivers what the test hands `feed.deliver`, and whose
 * `sync.ack` is `ack`: what a Subscriber needs, without a server.
 */
export function fakeSubscriptionClient(ack: (lastSeenId: number) => Promise<void>): {
  client: SyncClient;
  feed: { deliver?: (op: SyncOp) => void };
} {
  const feed: { deliver?: (op: SyncOp) => void } = {};
  const client = {
    trpc: {
      sync: {
        subscribe: {
          subscribe: (
            _input: unknown,
            handlers: { onStarted(): void; onData(event: { data: SyncOp }): void },
          ) => {
            feed.deliver = (op) => handlers.onData({ data: op });
            handlers.onStarted();
            return { unsubscribe() {} };
          },
        },
        ack: {
          mutate: async ({ lastSeenId }: { lastSeenId: number }) => {
            await ack(lastSeenId);
            return { lastSeenId };
          },
        },
      },
    },
  } as unknown as SyncClient;
  return { client, feed };
}
