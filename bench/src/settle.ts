import type pg from "pg";

/**
 * What a section starts from: the run's database vacuumed and analysed, and every dirty page
 * written by a CHECKPOINT, so a section measures its own work and not the write-back and
 * autovacuum of the one before it. Section 1 alone writes over a gigabyte of WAL on a slow
 * machine; Postgres then spreads a checkpoint over the next minutes (and autovacuum visits the
 * grown tables), which landed inside the latency figures of the next sections as stalls of
 * 100+ ms and inside the compaction figure as a third less throughput, depending on when the
 * run hit it. Both sides of every comparison run after the same settling.
 *
 * Answers the line for the section's heading, or why it could not settle (CHECKPOINT needs a
 * superuser or the pg_checkpoint role): the section is then measured anyway.
 */
export async function settleDatabase(pool: pg.Pool): Promise<string> {
  const started = performance.now();
  try {
    await pool.query("VACUUM (ANALYZE)");
    const vacuumed = performance.now();
    await pool.query("CHECKPOINT");
    const done = performance.now();
    return `started after VACUUM (ANALYZE) ${seconds(vacuumed - started)} and CHECKPOINT ${seconds(done - vacuumed)}`;
  } catch (error) {
    return `not settled before it started (${(error as Error).message})`;
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
