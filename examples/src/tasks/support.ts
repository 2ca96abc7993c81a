import type { DeviceEngine } from "@chorus/desktop-sync";
import { allPending, LibraryState } from "@chorus/desktop-sync/testing";
import type { LwwOp } from "@chorus/protocol";

/** The ops an engine made (its queue), as any peer receives them. */
export function madeBy(engine: DeviceEngine): LwwOp[] {
  return allPending(engine.profile.db).map((op) => ({ ...op, deviceId: engine.deviceId() }));
}

/**
 * Applies ops from other devices the way the subscriber does: one transaction, folded into
 * the registers, rows written once at the end (parents first), capture off.
 */
export function receive(engine: DeviceEngine, ops: readonly LwwOp[]): void {
  const { db, clock } = engine.profile;
  const library = new LibraryState(db, clock, () => engine.deviceId());
  db.transaction(() =>
    library.batch(() => {
      for (const op of ops) {
        clock.observe(op.lamportTs);
        library.fold(op);
      }
    }),
  )();
}
