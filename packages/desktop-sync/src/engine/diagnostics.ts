import type {
  Account,
  ConnectionState,
  Diagnostics,
  ResyncProgress,
  SyncMode,
} from "../contract.js";
import { syncErrorInfoSchema } from "../contract.js";
import { undismissedCount } from "../lww/overwritten.js";
import type { Profile } from "../profiles.js";
import {
  oldestPending,
  oldestPendingAt,
  pendingCount,
  quarantinedCount,
  quarantinedOps,
} from "../queue.js";
import { readMeta } from "../store/meta.js";

/** What only the running engine knows; the rest of the diagnostics is read from the profile. */
export interface LiveState {
  deviceId(): string;
  mode(): SyncMode;
  connection: ConnectionState;
  /** The cursor of the library edits go to (the profile file, or memory in server mode). */
  cursor(): number;
  account(): Account | null;
  resync: ResyncProgress | null;
  revokedAt(): string | null;
}

/** One consistent snapshot (one read transaction) of a profile's sync state. */
export function readDiagnostics(profile: Profile, live: LiveState): Diagnostics {
  const db = profile.db;
  return db.transaction(() => {
    const oldest = oldestPendingAt(db);
    const lastError = syncErrorInfoSchema.safeParse(
      JSON.parse(readMeta(db, "last_error") ?? "null"),
    );
    return {
      profile: profile.name,
      deviceId: live.deviceId(),
      mode: live.mode(),
      connection: live.connection,
      lamport: profile.clock.current(),
      pendingCount: pendingCount(db),
      oldestPendingAgeMs: oldest === null ? null : Math.max(0, Date.now() - oldest),
      cursor: live.cursor(),
      lastError: lastError.success ? lastError.data : null,
      lastSyncAt: readMeta(db, "last_sync_at") ?? null,
      quarantinedCount: quarantinedCount(db),
      quarantined: quarantinedOps(db).map(({ quarantinedAt, ...op }) => ({
        ...op,
        at: new Date(quarantinedAt).toISOString(),
      })),
      pending: oldestPending(db, 50).map((op) => ({
        operationId: op.operationId,
        entity: op.entity,
        entityId: op.entityId,
        field: op.field,
        op: op.op,
        madeAt: new Date(op.createdAt).toISOString(),
        attempts: op.attemptCount,
        lastError: op.lastError,
      })),
      overwrittenCount: undismissedCount(db),
      account: live.account(),
      resync: live.resync,
      revokedAt: live.revokedAt(),
    };
  })();
}
