import { oldestPendingAt, pendingCount } from "../queue.js";
import type { SqliteDatabase } from "../store/sqlite.js";

/*
 * Queue retention. The queue (sync_pending_op) holds only what the server has not stored: an
 * op leaves it in the transaction that reads the push result naming it, so acknowledged
 * entries are pruned as they are acknowledged and nothing else accumulates. What remains
 * grows only while the device cannot upload; it is never dropped (dropping a local edit
 * silently is the one thing sync must not do), so the bound is a status the app shows:
 *
 *   - `offline_too_long`: the oldest waiting change is older than the server's stale window
 *     (COMPACTION_STALE_DAYS, 90 days by default). The server has stopped holding its log
 *     back for this device, so on reconnect the device rebuilds from a full pull and re-applies
 *     these changes on top (nothing is lost, but concurrent edits made elsewhere meanwhile
 *     win where they are newer);
 *   - `backlog`: more changes wait than `maxPending`; they upload in batches on reconnect.
 */
export interface RetentionBound {
  /** Waiting changes above which the queue is reported as a backlog. */
  maxPending: number;
  /** Age of the oldest waiting change above which the device is offline too long (ms). */
  maxOfflineMs: number;
}

export const DEFAULT_RETENTION: RetentionBound = {
  maxPending: 100_000,
  maxOfflineMs: 90 * 24 * 60 * 60 * 1000,
};

export interface QueueHealth {
  status: "ok" | "backlog" | "offline_too_long";
  pendingCount: number;
  oldestPendingAgeMs: number | null;
  /** What to tell the user, or null when all is well. */
  message: string | null;
}

export function queueHealth(
  db: SqliteDatabase,
  now: number = Date.now(),
  bound: RetentionBound = DEFAULT_RETENTION,
): QueueHealth {
  const count = pendingCount(db);
  const oldest = oldestPendingAt(db);
  const age = oldest === null ? null : Math.max(0, now - oldest);
  if (age !== null && age > bound.maxOfflineMs) {
    const days = Math.floor(age / 86_400_000);
    return {
      status: "offline_too_long",
      pendingCount: count,
      oldestPendingAgeMs: age,
      message: `${count} change(s) have waited ${days} days to upload, longer than the server keeps history for an absent device: on reconnect this device rebuilds from the server and re-applies them on top; edits made elsewhere meanwhile win where they are newer`,
    };
  }
  if (count > bound.maxPending) {
    return {
      status: "backlog",
      pendingCount: count,
      oldestPendingAgeMs: age,
      message: `${count} changes wait to upload (more than ${bound.maxPending}); they upload in batches once the server is reachable`,
    };
  }
  return { status: "ok", pendingCount: count, oldestPendingAgeMs: age, message: null };
}
