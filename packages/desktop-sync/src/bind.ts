import type { LibraryState } from "./library-state.js";
import { renameDevice, renamePendingVersions, visibleEntities } from "./lww/registers.js";
import { clearQueue } from "./queue.js";
import { readMeta, writeMeta } from "./store/meta.js";
import type { SyncSession } from "./sync/session.js";

export type BindOutcome = "attached" | "first-bind" | "new-device" | "rebased";

/**
 * Binds a profile to the account and device of `session`, in one transaction.
 *
 * - Same account and device as before: only attaches (a restart, a new token).
 * - First bind ever: the profile's queue holds every edit made since it was created (Local
 *   mode queues too), so the queue IS the initial snapshot; it is uploaded as is. Versions
 *   this device wrote under its local id are renamed to the id the server assigned, so every
 *   device compares the same (lamportTs, deviceId) pairs.
 * - The same account again under a new device id (signed out, then in: the web app binds a
 *   new device): the library already mirrors that account's log, so the cursor stays, and the
 *   queue (edits made meanwhile, deletes included) is uploaded as is; only the versions of
 *   those queued ops are renamed to the new device id.
 * - Another account: the queue and the registers belong to the old one. The visible library
 *   is rebased on fresh ops — one insert per visible entity with its visible fields — which
 *   replace the queue; the old registers are dropped so the state is exactly what those ops
 *   say, and the cursor restarts at 0 so the new account's ops merge in by LWW.
 *
 * `bound_user_id` remembers the account the library's history belongs to, across sign-outs.
 */
export function bindProfile(library: LibraryState, session: SyncSession): BindOutcome {
  const { db } = library;
  return db
    .transaction((): BindOutcome => {
      const previousUser = readMeta(db, "user_id");
      const previousDevice = readMeta(db, "device_id") ?? "";
      const everBound = readMeta(db, "bound_user_id");
      let outcome: BindOutcome;
      if (previousUser === session.userId && previousDevice === session.deviceId) {
        outcome = "attached";
      } else if (everBound === undefined) {
        renameDevice(db, previousDevice, session.deviceId);
        outcome = "first-bind";
      } else if (everBound === session.userId) {
        renamePendingVersions(db, session.deviceId);
        outcome = "new-device";
      } else {
        const visible = visibleEntities(db);
        clearQueue(db);
        library.clearLibrary();
        writeMeta(db, "device_id", session.deviceId);
        library.commitLocal(
          visible.map((view) => ({
            entity: view.entity,
            entityId: view.entityId,
            field: null,
            op: "insert" as const,
            value: { ...view.fields },
          })),
          // What the library holds is re-stated, not a new edit: an entity the server refuses
          // (written by an older build) is quarantined by the drain instead of failing the bind.
          { capture: true, check: false },
        );
        outcome = "rebased";
      }
      writeMeta(db, "device_id", session.deviceId);
      writeMeta(db, "user_id", session.userId);
      writeMeta(db, "server_url", session.syncUrl);
      if (session.email) writeMeta(db, "email", session.email);
      if (session.webUrl) writeMeta(db, "web_url", session.webUrl);
      writeMeta(db, "bound_user_id", session.userId);
      if (outcome === "first-bind" || outcome === "rebased") library.setCursor(0);
      return outcome;
    })
    .immediate();
}
