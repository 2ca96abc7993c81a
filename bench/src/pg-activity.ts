import type pg from "pg";
import type { Pause } from "./stalls.js";

/**
 * What Postgres was doing while a section measured, sampled from pg_stat_activity every
 * SAMPLE_MS: its own background work (a checkpoint writing its pages: the checkpointer in
 * CheckpointWriteDelay or doing I/O; autovacuum or autoanalyze on a table), and what the
 * bench database's statements were waiting for (e.g. "wait WALSync": a commit flushing the
 * WAL to disk, "wait WALWrite": a commit waiting for another's flush). Each becomes an interval
 * that a slow delivery can be matched with, like a process's pauses.
 */
export interface ActivitySample {
  /** Wall-clock ms of the sample. */
  at: number;
  /** What was running then, e.g. "checkpoint", "autovacuum sync_op". */
  busy: string[];
}

export const SAMPLE_MS = 100;

/** Labels of the background work one pg_stat_activity row shows, or null when it is idle. */
export function labelOf(row: {
  backend_type: string;
  wait_event: string | null;
  query: string | null;
}): string | null {
  if (row.backend_type === "client backend") {
    return row.wait_event && row.wait_event !== "ClientRead" ? `wait ${row.wait_event}` : null;
  }
  if (row.backend_type === "checkpointer") {
    // Idle between checkpoints it waits in CheckpointerMain; anything else is a checkpoint.
    return row.wait_event === "CheckpointerMain" ? null : "checkpoint";
  }
  if (row.backend_type === "autovacuum worker") {
    const match = /^autovacuum:\s+(VACUUM ANALYZE|VACUUM|ANALYZE)\s+(?:\S+\.)?(\S+)/i.exec(
      row.query ?? "",
    );
    if (!match) return "autovacuum";
    const what = (match[1] as string).toUpperCase() === "ANALYZE" ? "autoanalyze" : "autovacuum";
    return `${what} ${match[2]}`;
  }
  return null;
}

/**
 * Samples into intervals by label: a label seen in consecutive samples is one interval from
 * its first sample to the sample after its last (or its last plus `stepMs` at the end).
 */
export function intervalsOf(samples: readonly ActivitySample[], stepMs = SAMPLE_MS) {
  const out: Record<string, Pause[]> = {};
  const add = (label: string, pause: Pause) => {
    const list = out[label] ?? [];
    list.push(pause);
    out[label] = list;
  };
  const open = new Map<string, number>();
  for (const [i, sample] of samples.entries()) {
    for (const label of sample.busy) if (!open.has(label)) open.set(label, sample.at);
    for (const [label, start] of open) {
      if (sample.busy.includes(label)) continue;
      add(label, { at: start, ms: sample.at - start });
      open.delete(label);
    }
    if (i === samples.length - 1) {
      for (const [label, start] of open) {
        add(label, { at: start, ms: sample.at + stepMs - start });
      }
    }
  }
  return out;
}

/** Starts sampling; stop() answers the samples taken. */
export function sampleActivity(pool: pg.Pool, now: () => number) {
  const samples: ActivitySample[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const at = now();
      try {
        const { rows } = await pool.query<{
          backend_type: string;
          wait_event: string | null;
          query: string | null;
        }>(
          `SELECT backend_type, wait_event, query FROM pg_stat_activity
            WHERE backend_type IN ('checkpointer', 'autovacuum worker')
               OR (backend_type = 'client backend' AND datname = current_database()
                   AND state = 'active' AND pid <> pg_backend_pid())`,
        );
        const busy = rows.map(labelOf).filter((label): label is string => label !== null);
        samples.push({ at, busy: [...new Set(busy)] });
      } catch {
        // A failed sample leaves a gap; the intervals around it still stand.
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, SAMPLE_MS - (now() - at))));
    }
  })();
  return {
    async stop(): Promise<ActivitySample[]> {
      running = false;
      await done;
      return samples;
    },
  };
}
