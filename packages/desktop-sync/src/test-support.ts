import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SyncOp } from "@chorus/protocol";
import type { SyncClient } from "./sync/client.js";

/** A fresh folder per test, removed afterwards; tests use real SQLite files in it. */
export function makeTempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), "chorus-desktop-sync-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
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
