import type { PrismaClient } from "@chorus/db";

/*
 * Throughput history: how many ops each replica stored from pushes and delivered to
 * subscribers, per interval, kept in PostgreSQL (throughput_sample) so the console's chart
 * survives a reload and covers the last 30 days. Every replica counts in memory and writes one
 * row per interval (also when nothing moved: a flat line is information too); rows older than
 * a day are merged into one row per replica and hour; nothing older than 30 days is kept.
 */

export const THROUGHPUT_SAMPLE_INTERVAL_MS = 60_000;
export const THROUGHPUT_FULL_DETAIL_MS = 86_400_000;
export const THROUGHPUT_RETENTION_MS = 30 * 86_400_000;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

export interface ThroughputOptions {
  /** This replica's name (the same as its telemetry rows'). */
  replica: string;
  now?: () => Date;
  /** One row per this many ms (default 1 min). */
  intervalMs?: number;
  /** Rows older than this are merged into hourly rows (default 1 day). */
  fullDetailMs?: number;
  /** Rows older than this are deleted (default 30 days). */
  retentionMs?: number;
  onWriteError?: (error: unknown) => void;
}

/** Counts one replica's pushed and delivered ops and writes them as samples. */
export class ThroughputHistory {
  private readonly now: () => Date;
  private pushed = 0;
  private delivered = 0;
  private since: Date;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private lastPrunedHour = -1;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: ThroughputOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.since = this.now();
  }

  opsPushed(count: number): void {
    if (count > 0) this.pushed += count;
  }

  opsDelivered(count: number): void {
    if (count > 0) this.delivered += count;
  }

  start(): void {
    if (this.timer) return;
    this.since = this.now();
    this.timer = setInterval(
      () => void this.sample(),
      this.options.intervalMs ?? THROUGHPUT_SAMPLE_INTERVAL_MS,
    );
    this.timer.unref();
  }

  /** Stops the timer and writes what was counted since the last sample. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sample();
  }

  /**
   * Writes the interval that ends now (the counts since the last sample), then merges and
   * prunes old rows (at most once per hour). A failed write is reported and its counts are
   * kept for the next one, so nothing counted is lost to a brief database outage.
   */
  sample(): Promise<void> {
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  private async write(): Promise<void> {
    const at = this.now();
    // A process paused for weeks still writes one row (the column is a 32-bit integer).
    const intervalMs = Math.min(2_147_483_647, Math.max(1, at.getTime() - this.since.getTime()));
    const pushed = this.pushed;
    const delivered = this.delivered;
    try {
      await this.prisma.$executeRaw`
        INSERT INTO throughput_sample (replica, at, interval_ms, ops_pushed, ops_delivered)
        VALUES (${this.options.replica}, ${at}, ${intervalMs}, ${pushed}, ${delivered})`;
      this.pushed -= pushed;
      this.delivered -= delivered;
      this.since = at;
      const hour = Math.floor(at.getTime() / HOUR_MS);
      if (hour !== this.lastPrunedHour) {
        await this.downsample(at);
        this.lastPrunedHour = hour;
      }
    } catch (error) {
      this.options.onWriteError?.(error);
    }
  }

  /**
   * This replica's rows of whole hours older than the full-detail window become one row per
   * hour (their sums, the hour's length as interval, stamped with the hour's end; a row belongs
   * to the hour its interval ends in), in one transaction; rows past the
   * retention are deleted (any replica's: the oldest hours are nobody's in particular).
   */
  private async downsample(at: Date): Promise<void> {
    const detailed = new Date(
      Math.floor(
        (at.getTime() - (this.options.fullDetailMs ?? THROUGHPUT_FULL_DETAIL_MS)) / HOUR_MS,
      ) * HOUR_MS,
    );
    const oldest = new Date(at.getTime() - (this.options.retentionMs ?? THROUGHPUT_RETENTION_MS));
    const replica = this.options.replica;
    await this.prisma.$transaction([
      this.prisma.$executeRaw`
        INSERT INTO throughput_sample (replica, at, interval_ms, ops_pushed, ops_delivered)
        SELECT ${replica}, date_trunc('hour', at - interval '1 millisecond') + interval '1 hour',
               ${HOUR_MS}, sum(ops_pushed), sum(ops_delivered)
          FROM throughput_sample
         WHERE replica = ${replica} AND interval_ms < ${HOUR_MS} AND at <= ${detailed}
         GROUP BY date_trunc('hour', at - interval '1 millisecond')`,
      this.prisma.$executeRaw`
        DELETE FROM throughput_sample
         WHERE replica = ${replica} AND interval_ms < ${HOUR_MS} AND at <= ${detailed}`,
      this.prisma.$executeRaw`DELETE FROM throughput_sample WHERE at < ${oldest}`,
    ]);
  }
}

export interface ThroughputPoint {
  /** The end of the interval. */
  at: string;
  /** The point's length: a minute (the last day) or an hour (before). */
  intervalMs: number;
  /** Ops stored from pushes per second, every replica together. */
  pushedPerSec: number;
  /** Ops delivered to subscribers per second, every replica together. */
  deliveredPerSec: number;
}

/**
 * Throughput over the last `sinceMs`, oldest first, one point per minute (per hour for merged
 * rows): each replica's ops over its time in that minute, the replicas' rates added.
 */
export async function readThroughputHistory(
  prisma: PrismaClient,
  input: { sinceMs: number; now?: Date },
): Promise<ThroughputPoint[]> {
  const now = input.now ?? new Date();
  const since = new Date(now.getTime() - input.sinceMs);
  // Per replica and bucket: its ops over its time (a replica sampling more often than once a
  // minute has several rows in one); then the replicas' rates added.
  const rows = await prisma.$queryRaw<
    { bucket: Date; interval_ms: number; pushed: number; delivered: number }[]
  >`
    SELECT bucket,
           (CASE WHEN bool_or(hourly) THEN ${HOUR_MS} ELSE ${MINUTE_MS} END)::int AS interval_ms,
           sum(pushed)::float8 AS pushed,
           sum(delivered)::float8 AS delivered
      FROM (SELECT CASE WHEN interval_ms >= ${HOUR_MS} THEN date_trunc('hour', at)
                        ELSE date_trunc('minute', at) END AS bucket,
                   bool_or(interval_ms >= ${HOUR_MS}) AS hourly,
                   sum(ops_pushed) * 1000.0 / sum(interval_ms) AS pushed,
                   sum(ops_delivered) * 1000.0 / sum(interval_ms) AS delivered
              FROM throughput_sample
             WHERE at > ${since}
             GROUP BY 1, replica) AS per_replica
     GROUP BY bucket
     ORDER BY bucket`;
  return rows.map((row) => ({
    at: row.bucket.toISOString(),
    intervalMs: row.interval_ms,
    pushedPerSec: row.pushed,
    deliveredPerSec: row.delivered,
  }));
}
