import { hostname } from "node:os";
import type { PrismaClient } from "@chorus/db";
import type { DeviceTelemetry } from "@chorus/protocol";

/** Where a report came from: riding on a push, or sent on its own (the slow timer, a failure). */
export type TelemetrySource = "push" | "report";

/** A name for this server process in diagnostics: host and pid, unless the server sets one. */
export function defaultReplicaName(): string {
  return `${hostname()}:${process.pid}`;
}

export interface DiagnosticsOptions {
  replica?: string;
  now?: () => Date;
  /**
   * At most one write per device in this many ms (default 1 s); the newest report of the
   * interval is written when it ends.
   */
  minReportIntervalMs?: number;
  /** At most one lag sample per device in this many ms (default 5 min). */
  lagSampleIntervalMs?: number;
  /** Lag samples kept per device at most (default 2,000; downsampling keeps about 1,000). */
  lagSamplesKept?: number;
  /** Samples older than this are thinned to one per hour, the worst of it (default 1 day). */
  lagFullDetailMs?: number;
  /** Lag samples older than this are deleted (default 30 days). */
  lagRetentionMs?: number;
  onWriteError?: (error: unknown) => void;
}

export const LAG_SAMPLE_INTERVAL_MS = 5 * 60_000;
export const LAG_RETENTION_MS = 30 * 86_400_000;
export const LAG_FULL_DETAIL_MS = 86_400_000;
/**
 * A safety bound: a day at one sample per 5 min (288) plus one per hour for 29 days (696) is
 * under 1,000.
 */
export const LAG_SAMPLES_KEPT = 2_000;
/** Ops beyond a position counted at most (a device further behind shows this many). */
export const LAG_COUNT_CAP = 100_000;

/**
 * Keeps what each device last said about itself (device_telemetry) and where its socket is
 * (device_socket). Writes never fail the call that carried them: a push is stored whether or not
 * its report is, and a failed write is reported to onWriteError.
 */
export class DeviceDiagnostics {
  readonly replica: string;
  private readonly now: () => Date;
  private readonly minIntervalMs: number;
  private readonly lastStored = new Map<string, number>();
  private readonly trailing = new Map<
    string,
    {
      device: { id: string; userId: string };
      telemetry: DeviceTelemetry;
      source: TelemetrySource;
      receivedAt: Date;
    }
  >();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: DiagnosticsOptions = {},
  ) {
    this.replica = options.replica ?? defaultReplicaName();
    this.now = options.now ?? (() => new Date());
    this.minIntervalMs = options.minReportIntervalMs ?? 1_000;
  }

  /**
   * Stores a device's report and the clock skew measured now (device clock minus server clock at
   * receipt: positive when the device runs ahead), and returns the skew. At most one write per
   * device per interval: a report arriving sooner is held and written when the interval ends
   * (a newer one replaces it meanwhile).
   */
  record(
    device: { id: string; userId: string },
    telemetry: DeviceTelemetry,
    source: TelemetrySource,
  ): { skewMs: number } {
    const receivedAt = this.now();
    const skewMs = telemetry.clock - receivedAt.getTime();
    const last = this.lastStored.get(device.id);
    const wait = last === undefined ? 0 : last + this.minIntervalMs - receivedAt.getTime();
    if (wait > 0) {
      // Too soon after the last write: the newest report of the interval is written when it
      // ends (with the skew measured at its receipt), so the row ends up the device's latest word.
      const queued = this.trailing.has(device.id);
      this.trailing.set(device.id, { device, telemetry, source, receivedAt });
      if (!queued) {
        const timer = setTimeout(() => {
          const next = this.trailing.get(device.id);
          this.trailing.delete(device.id);
          if (next) this.write(next.device, next.telemetry, next.source, next.receivedAt);
        }, wait);
        timer.unref();
      }
      return { skewMs };
    }
    this.write(device, telemetry, source, receivedAt);
    return { skewMs };
  }

  private write(
    device: { id: string; userId: string },
    telemetry: DeviceTelemetry,
    source: TelemetrySource,
    receivedAt: Date,
  ): void {
    if (this.lastStored.size >= 10_000) this.lastStored.clear();
    this.lastStored.set(device.id, this.now().getTime());
    const skewMs = telemetry.clock - receivedAt.getTime();
    const write = this.prisma.$executeRaw`
      INSERT INTO device_telemetry (device_id, user_id, received_at, device_clock, clock_skew_ms,
        queue_depth, oldest_pending_age_ms, last_error, quarantined_count, quarantined,
        device_cursor, app_version, protocol_version, source, replica)
      VALUES (${device.id}::uuid, ${device.userId}::uuid, ${receivedAt},
        ${new Date(telemetry.clock)}, ${skewMs}, ${telemetry.queueDepth},
        ${telemetry.oldestPendingAgeMs}, ${telemetry.lastError === null ? null : JSON.stringify(telemetry.lastError)}::jsonb,
        ${telemetry.quarantinedCount}, ${JSON.stringify(telemetry.quarantined)}::jsonb,
        ${telemetry.cursor}, ${telemetry.appVersion}, ${telemetry.protocolVersion}, ${source},
        ${this.replica})
      ON CONFLICT (device_id) DO UPDATE SET
        received_at = EXCLUDED.received_at, device_clock = EXCLUDED.device_clock,
        clock_skew_ms = EXCLUDED.clock_skew_ms, queue_depth = EXCLUDED.queue_depth,
        oldest_pending_age_ms = EXCLUDED.oldest_pending_age_ms, last_error = EXCLUDED.last_error,
        quarantined_count = EXCLUDED.quarantined_count, quarantined = EXCLUDED.quarantined,
        device_cursor = EXCLUDED.device_cursor, app_version = EXCLUDED.app_version,
        protocol_version = EXCLUDED.protocol_version, source = EXCLUDED.source,
        replica = EXCLUDED.replica
      WHERE device_telemetry.received_at <= EXCLUDED.received_at`;
    this.track(write.then(() => this.sampleLag(device, telemetry.cursor, receivedAt)));
  }

  /**
   * One lag sample for the device, unless it has one within the sampling interval: the
   * position the server knows (its stored ACK or its reported cursor, the further), the ops
   * beyond it (counted up to LAG_COUNT_CAP) and the age of the oldest of them. Then the
   * device's history is downsampled (older than a day: one sample per hour, the one furthest
   * behind) and cut to its bounds (age and count).
   */
  private async sampleLag(
    device: { id: string; userId: string },
    reportedCursor: number,
    at: Date,
  ): Promise<void> {
    const interval = this.options.lagSampleIntervalMs ?? LAG_SAMPLE_INTERVAL_MS;
    const since = new Date(at.getTime() - interval);
    const inserted = await this.prisma.$executeRaw`
      WITH pos AS (
        SELECT GREATEST(${reportedCursor}::bigint, COALESCE(
          (SELECT last_seen_id FROM device_sync_cursor WHERE device_id = ${device.id}::uuid), 0)) AS id
      )
      INSERT INTO device_lag_sample (device_id, user_id, at, cursor, ops_behind, cursor_age_ms)
      SELECT ${device.id}::uuid, ${device.userId}::uuid, ${at}, pos.id,
             (SELECT count(*) FROM (SELECT 1 FROM sync_op
               WHERE user_id = ${device.userId}::uuid AND id > pos.id LIMIT ${LAG_COUNT_CAP}) AS beyond),
             COALESCE(GREATEST(0, (EXTRACT(EPOCH FROM (${at}::timestamptz - (
               SELECT created_at FROM sync_op WHERE user_id = ${device.userId}::uuid AND id > pos.id
                ORDER BY id LIMIT 1))) * 1000)::bigint), 0)
        FROM pos
       WHERE NOT EXISTS (SELECT 1 FROM device_lag_sample
                          WHERE device_id = ${device.id}::uuid AND at > ${since})`;
    if (inserted === 0) return;
    const oldest = new Date(at.getTime() - (this.options.lagRetentionMs ?? LAG_RETENTION_MS));
    const detailed = new Date(at.getTime() - (this.options.lagFullDetailMs ?? LAG_FULL_DETAIL_MS));
    await this.prisma.$executeRaw`
      DELETE FROM device_lag_sample WHERE id IN (
        SELECT id FROM (
          SELECT id, row_number() OVER (PARTITION BY date_trunc('hour', at)
                                        ORDER BY ops_behind DESC, cursor_age_ms DESC, at DESC, id DESC) AS rank
            FROM device_lag_sample
           WHERE device_id = ${device.id}::uuid AND at < ${detailed}) AS hourly
         WHERE rank > 1)`;
    await this.prisma.$executeRaw`
      DELETE FROM device_lag_sample
       WHERE device_id = ${device.id}::uuid
         AND (at < ${oldest} OR id NOT IN (
           SELECT id FROM device_lag_sample WHERE device_id = ${device.id}::uuid
            ORDER BY at DESC, id DESC LIMIT ${this.options.lagSamplesKept ?? LAG_SAMPLES_KEPT}))`;
  }

  /**
   * A socket of the device opened on this replica. Returns the moment recorded, which the
   * socket keeps (a number, not a closure: an idle socket holds it for its whole life) and
   * hands to socketClosed.
   */
  socketOpened(deviceId: string): number {
    const connectedAt = this.now();
    this.track(this.prisma.$executeRaw`
      INSERT INTO device_socket (device_id, replica, connected_at, closed_at)
      VALUES (${deviceId}::uuid, ${this.replica}, ${connectedAt}, NULL)
      ON CONFLICT (device_id) DO UPDATE SET replica = EXCLUDED.replica,
        connected_at = EXCLUDED.connected_at, closed_at = NULL`);
    return connectedAt.getTime();
  }

  /** That socket closed: only its own row is marked (a newer socket, here or on another replica, replaced it). */
  socketClosed(deviceId: string, connectedAt: number): void {
    this.track(this.prisma.$executeRaw`
      UPDATE device_socket SET closed_at = ${this.now()}
       WHERE device_id = ${deviceId}::uuid AND replica = ${this.replica}
         AND connected_at = ${new Date(connectedAt)} AND closed_at IS NULL`);
  }

  private track(write: Promise<unknown>): void {
    const settled = write
      .catch((error: unknown) => this.options.onWriteError?.(error))
      .finally(() => this.inFlight.delete(settled));
    this.inFlight.add(settled);
  }

  /** Writes the held reports now and waits for every write started (shutdown, tests). */
  async settle(): Promise<void> {
    for (const [id, next] of this.trailing) {
      this.trailing.delete(id);
      this.write(next.device, next.telemetry, next.source, next.receivedAt);
    }
    await Promise.all([...this.inFlight]);
  }
}

export interface LagSample {
  at: string;
  cursor: number;
  opsBehind: number;
  cursorAgeMs: number;
}

/** A device's newest lag samples (at most `limit`), oldest first. */
export async function readLagHistory(
  prisma: PrismaClient,
  deviceId: string,
  limit: number,
): Promise<LagSample[]> {
  const rows = await prisma.$queryRaw<
    { at: Date; cursor: bigint; ops_behind: number; cursor_age_ms: bigint }[]
  >`
    SELECT at, cursor, ops_behind, cursor_age_ms FROM device_lag_sample
     WHERE device_id = ${deviceId}::uuid ORDER BY at DESC, id DESC LIMIT ${limit}`;
  return rows.reverse().map((row) => ({
    at: row.at.toISOString(),
    cursor: Number(row.cursor),
    opsBehind: row.ops_behind,
    cursorAgeMs: Number(row.cursor_age_ms),
  }));
}
