import { EngineError } from "./errors.js";
import type { SqliteDatabase } from "./store/sqlite.js";

/**
 * The profile's Lamport clock, persisted in sync_meta so that it survives restarts: a
 * device must never stamp two ops with the same value (the server refuses a regression).
 */
export interface LamportClock {
  /** The last value handed out or observed; 0 for a new profile. */
  current(): number;
  /**
   * Advances by one and returns the new value. Runs in a transaction (a savepoint when the
   * caller already holds one), so a domain write, its op and its timestamp commit together
   * or not at all.
   */
  next(): number;
  /**
   * Raises the floor to `remote` when it is ahead, so the next local value exceeds every
   * value this device has seen. Returns the clock after the call.
   */
  observe(remote: number): number;
}

export function createLamportClock(db: SqliteDatabase): LamportClock {
  const read = db
    .prepare("SELECT CAST(value AS INTEGER) FROM sync_meta WHERE key = 'lamport'")
    .pluck();
  const bump = db
    .prepare(
      `UPDATE sync_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'lamport'
       RETURNING CAST(value AS INTEGER)`,
    )
    .pluck();
  // CAST on the parameter: better-sqlite3 binds JS numbers as REAL, and the text column
  // would otherwise store "7.0".
  const raise = db
    .prepare(
      `UPDATE sync_meta SET value = MAX(CAST(value AS INTEGER), CAST(? AS INTEGER))
       WHERE key = 'lamport' RETURNING CAST(value AS INTEGER)`,
    )
    .pluck();

  const expectValue = (value: unknown): number => {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      throw new EngineError(
        "profile_corrupt",
        "the profile's Lamport clock is missing or invalid",
        {
          value,
        },
      );
    }
    return value;
  };

  const next = db.transaction(() => expectValue(bump.get()));
  const observe = db.transaction((remote: number) => expectValue(raise.get(remote)));

  return {
    current: () => expectValue(read.get()),
    next: () => next(),
    observe: (remote) => {
      if (!Number.isSafeInteger(remote) || remote < 0) {
        throw new EngineError(
          "invalid_lamport",
          `a Lamport timestamp must be a non-negative integer, got ${remote}`,
          { remote },
        );
      }
      return observe(remote);
    },
  };
}
