import type { SyncOp } from "@chorus/protocol";
import type { DeviceEngine } from "../engine.js";
import { LibraryState } from "../library-state.js";
import { allPending, toOpInput } from "../queue.js";

/*
 * The server's part, played in-process for unit tests: an engine's queued ops delivered to
 * another engine with increasing server ids, applied in one transaction through applyRemote
 * as the subscriber does. System tests do the same through a real sync server.
 */

let serverId = 0;

/** The next server id (ops a test re-delivers get new ones, as the server's echo would). */
export function nextServerId(): number {
  serverId += 1;
  return serverId;
}

/** Delivers `from`'s queued ops (those not in `sent` yet) to `to`, as the server would. */
export function deliver(from: DeviceEngine, to: DeviceEngine, sent = new Set<string>()): SyncOp[] {
  const ops = allPending(from.profile.db)
    .filter((op) => !sent.has(op.operationId))
    .map(
      (op): SyncOp => ({
        ...toOpInput(op),
        id: nextServerId(),
        deviceId: from.deviceId(),
        createdAt: new Date().toISOString(),
      }),
    );
  for (const op of ops) sent.add(op.operationId);
  receive(to, ops);
  return ops;
}

/** Applies ops the server sent, in one transaction. */
export function receive(to: DeviceEngine, ops: readonly SyncOp[]): void {
  const library = new LibraryState(to.profile.db, to.profile.clock, () => to.deviceId());
  to.profile.db.transaction(() => library.batch(() => ops.map((op) => library.applyRemote(op))))();
}
