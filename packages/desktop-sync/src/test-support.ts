import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SyncOp } from "@chorus/protocol";

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
