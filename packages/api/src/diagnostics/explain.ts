import type { Prisma, PrismaClient } from "@chorus/db";
import {
  type AuditDifference,
  TelemetryError,
  TelemetryQuarantinedOp,
  toWireInt,
} from "@chorus/protocol";
import { z } from "zod";
import type { CompactionSettings } from "../compaction/compact-user.js";
import { readPositions } from "../compaction/positions.js";
import type { BufferedAck } from "../sync/ack-buffer.js";
import { compactedUpTo } from "../sync/ops-store.js";
import { RUNBOOK_ANCHORS } from "./runbooks.js";

/** A clock further off than this (either way) is called skewed. */
export const CLOCK_SKEW_WARN_MS = 2 * 60_000;
/** An online device whose unacknowledged ops are older than this, and whose last ACK is, is not acknowledging. */
export const ACK_GRACE_MS = 60_000;
/** A queue that has failed to move for this long (with an error) is stuck. */
export const STUCK_QUEUE_MS = 5 * 60_000;

/**
 * One plain-language finding about a device. The server says which and with what numbers; the
 * web app and the CLI put it into words (localized), so every surface says the same thing.
 * Ordered by how much it explains: the first is the headline.
 */
export type Verdict =
  | { code: "revoked"; severity: "info"; revokedAt: string }
  | {
      /**
       * The device's newest convergence audit found its state different from the server's log,
       * and nothing since says it is fixed (a later match, or a full resync's audit).
       */
      code: "audit_mismatch";
      severity: "problem";
      auditedAt: string;
      /** The position the audit compared at. */
      cursor: number;
      /** The first differing entity and field with both sides (null: the device sent no detail). */
      difference: AuditDifference | null;
    }
  | { code: "never_connected"; severity: "warning" }
  | {
      code: "below_watermark";
      severity: "problem";
      cursor: number;
      watermark: number;
      /** What its full resync downloads: every surviving op of the account. */
      resyncOps: number;
      resyncBytes: number;
    }
  | {
      code: "queue_stuck";
      severity: "problem";
      /** Ops the server refused for good (set aside on the device). */
      refused: number;
      reason: string | null;
      /** Ops waiting in the device's outbox. */
      waiting: number;
      /** The error the queue keeps failing with, when it is not moving. */
      errorCode: string | null;
      oldestPendingAgeMs: number | null;
      reportedAt: string;
    }
  | {
      code: "not_acknowledging";
      severity: "problem";
      lastAckAt: string | null;
      sinceAckMs: number | null;
      opsBehind: number;
    }
  | {
      code: "offline";
      severity: "warning";
      lastSeenAt: string;
      offlineMs: number;
      /** Until it stops holding compaction back (negative: stale for that long). */
      staleInMs: number;
      /** When compaction will force it into a full resync, if nothing changes. */
      resync: "next_compaction" | "any_compaction" | null;
      nextCompactionAt: string | null;
      opsBehind: number;
    }
  | { code: "clock_skewed"; severity: "warning"; skewMs: number }
  | { code: "catching_up"; severity: "info"; opsBehind: number }
  | {
      /** Online and not stuck, with changes still waiting in its outbox (so not "in sync"). */
      code: "uploading";
      severity: "info";
      waiting: number;
      oldestPendingAgeMs: number | null;
      reportedAt: string;
    }
  | { code: "in_sync"; severity: "ok" };

export type VerdictCode = Verdict["code"];

/** A verdict with the anchor of its section in docs/runbooks/devices.md (what to do next). */
export type RunbookedVerdict = Verdict & { runbook: string };

const StoredQuarantined = z.array(TelemetryQuarantinedOp);

export interface Diagnosis {
  deviceId: string;
  userId: string;
  email: string;
  name: string;
  platform: string;
  appVersion: string;
  boundAt: string;
  revokedAt: string | null;
  checkedAt: string;
  cursor: {
    stored: number | null;
    storedAt: string | null;
    /** A newer ACK held in this replica's buffer, not yet written. */
    buffered: number | null;
    bufferedAt: string | null;
    effective: number;
  };
  newestOp: { id: number; at: string } | null;
  watermark: number;
  lag: { ops: number; oldestAt: string | null; ms: number };
  socket: {
    online: boolean;
    replica: string | null;
    connectedAt: string | null;
    closedAt: string | null;
  };
  lastSeenAt: string | null;
  lastAckAt: string | null;
  stale: { stale: boolean; staleInMs: number };
  nextCompactionAt: string | null;
  telemetry: {
    receivedAt: string;
    source: string;
    replica: string;
    deviceClock: string;
    clockSkewMs: number;
    queueDepth: number;
    oldestPendingAgeMs: number | null;
    lastError: TelemetryError | null;
    quarantinedCount: number;
    quarantined: TelemetryQuarantinedOp[];
    deviceCursor: number;
    appVersion: string;
    protocolVersion: number;
  } | null;
  verdicts: RunbookedVerdict[];
}

export interface ExplainContext {
  prisma: PrismaClient;
  online: ReadonlySet<string>;
  buffered: BufferedAck[];
  settings: CompactionSettings;
  nextCompactionAt: Date | null;
}

interface DeviceRow {
  id: string;
  user_id: string;
  email: string;
  name: string;
  platform: string;
  app_version: string;
  bound_at: Date;
  last_seen_at: Date | null;
  revoked_at: Date | null;
  stored_cursor: bigint | null;
  stored_at: Date | null;
}

interface TelemetryRow {
  received_at: Date;
  source: string;
  replica: string;
  device_clock: Date;
  clock_skew_ms: bigint;
  queue_depth: number;
  oldest_pending_age_ms: bigint | null;
  last_error: unknown;
  quarantined_count: number;
  quarantined: unknown;
  device_cursor: bigint;
  app_version: string;
  protocol_version: number;
}

const iso = (date: Date | null | undefined) => date?.toISOString() ?? null;
const num = (value: bigint | null) => (value === null ? null : toWireInt(value));

/** The ops and bytes a full resync of the account downloads now (every surviving op). */
export async function resyncCost(
  db: Prisma.TransactionClient,
  userId: string,
): Promise<{ ops: number; bytes: number }> {
  const [row] = await db.$queryRaw<{ ops: bigint; bytes: bigint }[]>`
    SELECT count(*) AS ops,
           COALESCE(sum(octet_length(entity) + octet_length(entity_id)
             + COALESCE(octet_length(field), 0) + COALESCE(octet_length(value::text), 0) + 120), 0)::bigint AS bytes
      FROM sync_op WHERE user_id = ${userId}::uuid`;
  return { ops: toWireInt(row?.ops ?? 0n), bytes: toWireInt(row?.bytes ?? 0n) };
}

/**
 * Why a device is where it is: its cursor (stored and buffered), the newest op, its socket, its
 * own report, the watermark and the stale countdown, read in one transaction, and the verdicts
 * they add up to. Null when there is no such device.
 */
export async function explainDevice(
  ctx: ExplainContext,
  deviceId: string,
): Promise<Diagnosis | null> {
  const now = ctx.settings.now();
  return ctx.prisma.$transaction(async (tx) => {
    const [device] = await tx.$queryRaw<DeviceRow[]>`
      SELECT d.id, d.user_id, u.email, d.name, d.platform, d.app_version, d.bound_at,
             d.last_seen_at, d.revoked_at, c.last_seen_id AS stored_cursor, c.last_seen_at AS stored_at
        FROM devices d
        JOIN users u ON u.id = d.user_id
        LEFT JOIN device_sync_cursor c ON c.device_id = d.id
       WHERE d.id = ${deviceId}::uuid`;
    if (!device) return null;
    const userId = device.user_id;
    const buffered = ctx.buffered.find((ack) => ack.deviceId === deviceId) ?? null;
    const stored = num(device.stored_cursor);
    const effective = Math.max(stored ?? 0, buffered?.lastSeenId ?? 0);
    const bufferedNewer = buffered !== null && buffered.lastSeenId > (stored ?? 0);
    const ackTimes = [device.stored_at?.getTime(), buffered?.at.getTime()].filter(
      (t): t is number => t !== undefined,
    );
    const lastAckAt = ackTimes.length ? new Date(Math.max(...ackTimes)) : null;

    const [newest] = await tx.$queryRaw<{ id: bigint; created_at: Date }[]>`
      SELECT id, created_at FROM sync_op WHERE user_id = ${userId}::uuid ORDER BY id DESC LIMIT 1`;
    const [lag] = await tx.$queryRaw<{ ops: bigint; oldest: Date | null }[]>`
      SELECT count(*) AS ops, min(created_at) AS oldest
        FROM sync_op WHERE user_id = ${userId}::uuid AND id > ${effective}`;
    const watermark = await compactedUpTo(tx, userId);
    const [socket] = await tx.$queryRaw<
      { replica: string; connected_at: Date; closed_at: Date | null }[]
    >`SELECT replica, connected_at, closed_at FROM device_socket WHERE device_id = ${deviceId}::uuid`;
    const [telemetry] = await tx.$queryRaw<TelemetryRow[]>`
      SELECT received_at, source, replica, device_clock, clock_skew_ms, queue_depth,
             oldest_pending_age_ms, last_error, quarantined_count, quarantined, device_cursor,
             app_version, protocol_version
        FROM device_telemetry WHERE device_id = ${deviceId}::uuid`;

    // The newest audit that says something about the device's state now: a comparison (match
    // or mismatch), or any audit run after a full resync (the resync rebuilt the state, so an
    // older mismatch no longer describes it, even when that audit could not compare).
    const [audit] = await tx.$queryRaw<
      { at: Date; cursor: bigint; outcome: string; first_difference: AuditDifference | null }[]
    >`
      SELECT at, cursor, outcome, first_difference FROM device_convergence_audit
       WHERE device_id = ${deviceId}::uuid AND (outcome <> 'not_comparable' OR trigger = 'resync')
       ORDER BY id DESC LIMIT 1`;

    const staleOptions = { staleWindowMs: ctx.settings.staleWindowMs, buffered: ctx.buffered };
    const positionsNow = await readPositions(tx, userId, { now, ...staleOptions });
    const here = positionsNow.devices.find((d) => d.deviceId === deviceId);
    const staleInMs = here
      ? here.lastSeenAt.getTime() + ctx.settings.staleWindowMs - now.getTime()
      : 0;
    /** Would a compaction at `at` (with the cursors as they are) leave this device below its watermark? */
    const forcedAt = async (at: Date) => {
      const positions =
        at === now ? positionsNow : await readPositions(tx, userId, { now: at, ...staleOptions });
      const target = Math.max(watermark, positions.min);
      return effective < target && effective < positions.newestId;
    };

    const lagOps = toWireInt(lag?.ops ?? 0n);
    const lagMs = lag?.oldest ? Math.max(0, now.getTime() - lag.oldest.getTime()) : 0;
    const online = ctx.online.has(deviceId);
    const seen = [
      device.last_seen_at?.getTime(),
      lastAckAt?.getTime(),
      socket?.closed_at?.getTime(),
    ].filter((t): t is number => t !== undefined);
    const lastSeenAt = seen.length ? new Date(Math.max(...seen)) : null;

    const quarantined = StoredQuarantined.safeParse(telemetry?.quarantined);
    const lastError = TelemetryError.nullable().safeParse(telemetry?.last_error ?? null);
    const report = telemetry
      ? {
          receivedAt: telemetry.received_at.toISOString(),
          source: telemetry.source,
          replica: telemetry.replica,
          deviceClock: telemetry.device_clock.toISOString(),
          clockSkewMs: toWireInt(telemetry.clock_skew_ms),
          queueDepth: telemetry.queue_depth,
          oldestPendingAgeMs: num(telemetry.oldest_pending_age_ms),
          lastError: lastError.success ? lastError.data : null,
          quarantinedCount: telemetry.quarantined_count,
          quarantined: quarantined.success ? quarantined.data : [],
          deviceCursor: toWireInt(telemetry.device_cursor),
          appVersion: telemetry.app_version,
          protocolVersion: telemetry.protocol_version,
        }
      : null;

    const verdicts: Verdict[] = [];
    if (device.revoked_at) {
      verdicts.push({
        code: "revoked",
        severity: "info",
        revokedAt: device.revoked_at.toISOString(),
      });
    } else {
      if (audit?.outcome === "mismatch") {
        verdicts.push({
          code: "audit_mismatch",
          severity: "problem",
          auditedAt: audit.at.toISOString(),
          cursor: toWireInt(audit.cursor),
          difference: audit.first_difference,
        });
      }
      if (!lastSeenAt && !online && !report)
        verdicts.push({ code: "never_connected", severity: "warning" });
      // Where the device will ask from: its own cursor when it reported one further on than
      // its last ACK (an ACK may still be on its way), else what it ACKed.
      const position = Math.max(effective, report?.deviceCursor ?? 0);
      if (position > 0 && position < watermark) {
        const cost = await resyncCost(tx, userId);
        verdicts.push({
          code: "below_watermark",
          severity: "problem",
          cursor: position,
          watermark,
          resyncOps: cost.ops,
          resyncBytes: cost.bytes,
        });
      }
      if (report) {
        const sinceReport = Math.max(0, now.getTime() - Date.parse(report.receivedAt));
        const pendingAge =
          report.oldestPendingAgeMs === null ? null : report.oldestPendingAgeMs + sinceReport;
        const failing =
          report.queueDepth > 0 &&
          report.lastError !== null &&
          pendingAge !== null &&
          pendingAge > STUCK_QUEUE_MS;
        const stuck = report.quarantinedCount > 0 || failing;
        if (stuck) {
          verdicts.push({
            code: "queue_stuck",
            severity: "problem",
            refused: report.quarantinedCount,
            reason: report.quarantined[0]?.reason ?? null,
            waiting: report.queueDepth,
            errorCode: failing ? (report.lastError?.code ?? null) : null,
            oldestPendingAgeMs: pendingAge,
            reportedAt: report.receivedAt,
          });
        } else if (online && report.queueDepth > 0) {
          // Changes wait to upload and nothing is wrong: say so rather than "in sync".
          verdicts.push({
            code: "uploading",
            severity: "info",
            waiting: report.queueDepth,
            oldestPendingAgeMs: pendingAge,
            reportedAt: report.receivedAt,
          });
        }
      }
      const sinceAckMs = lastAckAt ? Math.max(0, now.getTime() - lastAckAt.getTime()) : null;
      if (online && lagOps > 0) {
        const late = lagMs > ACK_GRACE_MS && (sinceAckMs === null || sinceAckMs > ACK_GRACE_MS);
        verdicts.push(
          late
            ? {
                code: "not_acknowledging",
                severity: "problem",
                lastAckAt: iso(lastAckAt),
                sinceAckMs,
                opsBehind: lagOps,
              }
            : { code: "catching_up", severity: "info", opsBehind: lagOps },
        );
      }
      if (!online && lastSeenAt) {
        let resync: "next_compaction" | "any_compaction" | null = null;
        if (effective >= watermark || effective === 0) {
          if (ctx.nextCompactionAt && (await forcedAt(ctx.nextCompactionAt)))
            resync = "next_compaction";
          else if (staleInMs < 0 && (await forcedAt(now))) resync = "any_compaction";
        }
        verdicts.push({
          code: "offline",
          severity: "warning",
          lastSeenAt: lastSeenAt.toISOString(),
          offlineMs: Math.max(0, now.getTime() - lastSeenAt.getTime()),
          staleInMs,
          resync,
          nextCompactionAt: iso(ctx.nextCompactionAt),
          opsBehind: lagOps,
        });
      }
      if (report && Math.abs(report.clockSkewMs) > CLOCK_SKEW_WARN_MS) {
        verdicts.push({ code: "clock_skewed", severity: "warning", skewMs: report.clockSkewMs });
      }
      if (verdicts.length === 0 && online) verdicts.push({ code: "in_sync", severity: "ok" });
    }
    const order: VerdictCode[] = [
      "revoked",
      "audit_mismatch",
      "below_watermark",
      "queue_stuck",
      "not_acknowledging",
      "offline",
      "never_connected",
      "clock_skewed",
      "catching_up",
      "uploading",
      "in_sync",
    ];
    verdicts.sort((a, b) => order.indexOf(a.code) - order.indexOf(b.code));

    return {
      deviceId,
      userId,
      email: device.email,
      name: device.name,
      platform: device.platform,
      appVersion: report?.appVersion ?? device.app_version,
      boundAt: device.bound_at.toISOString(),
      revokedAt: iso(device.revoked_at),
      checkedAt: now.toISOString(),
      cursor: {
        stored,
        storedAt: iso(device.stored_at),
        buffered: bufferedNewer ? (buffered?.lastSeenId ?? null) : null,
        bufferedAt: bufferedNewer ? iso(buffered?.at) : null,
        effective,
      },
      newestOp: newest ? { id: toWireInt(newest.id), at: newest.created_at.toISOString() } : null,
      watermark,
      lag: { ops: lagOps, oldestAt: iso(lag?.oldest), ms: lagMs },
      socket: {
        online,
        replica: socket?.replica ?? null,
        connectedAt: iso(socket?.connected_at),
        closedAt: iso(socket?.closed_at),
      },
      lastSeenAt: iso(lastSeenAt),
      lastAckAt: iso(lastAckAt),
      stale: { stale: staleInMs < 0, staleInMs },
      nextCompactionAt: iso(ctx.nextCompactionAt),
      telemetry: report,
      verdicts: verdicts.map((verdict) => ({ ...verdict, runbook: RUNBOOK_ANCHORS[verdict.code] })),
    };
  });
}
