import {
  type DeviceTelemetry,
  MAX_REPORTED_QUARANTINED,
  unstorableStringProblem,
} from "@chorus/protocol";
import { syncErrorInfoSchema } from "../contract.js";
import { oldestPendingAt, pendingCount, quarantinedCount, quarantinedOps } from "../queue.js";
import { readMeta } from "../store/meta.js";
import type { SqliteDatabase } from "../store/sqlite.js";

export interface TelemetrySource {
  /** The profile's durable store: its outbox, quarantine and last error. */
  db: SqliteDatabase;
  /** The position the active library has applied up to. */
  cursor(): number;
  appVersion: string;
  protocolVersion: number;
  /** The device's wall clock (ms since the epoch). */
  now(): number;
}

const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text the server can store: U+0000 and lone surrogates replaced, cut to `max` characters. */
function storable(text: string, max: number): string {
  let clean = text.slice(0, max);
  if (unstorableStringProblem(clean) !== null) {
    clean = clean.replaceAll("\u0000", "\uFFFD").replace(LONE_SURROGATES, "\uFFFD");
  }
  return clean;
}

/** What this device says about itself: queue, quarantine, last error, versions, clock. */
export function collectTelemetry(source: TelemetrySource): DeviceTelemetry {
  const { db } = source;
  return db.transaction(() => {
    const now = source.now();
    const oldest = oldestPendingAt(db);
    const parsed = syncErrorInfoSchema.safeParse(JSON.parse(readMeta(db, "last_error") ?? "null"));
    return {
      queueDepth: pendingCount(db),
      oldestPendingAgeMs: oldest === null ? null : Math.max(0, Math.round(now - oldest)),
      lastError: parsed.success
        ? {
            code: storable(parsed.data.code, 80),
            message: storable(parsed.data.message, 1_000),
            at: parsed.data.at,
          }
        : null,
      quarantinedCount: quarantinedCount(db),
      quarantined: quarantinedOps(db, MAX_REPORTED_QUARANTINED).map((op) => ({
        operationId: op.operationId,
        entity: storable(op.entity, 64),
        entityId: storable(op.entityId, 200),
        field: op.field === null ? null : storable(op.field, 64),
        reason: storable(op.reason, 1_000),
        at: new Date(op.quarantinedAt).toISOString(),
      })),
      cursor: source.cursor(),
      appVersion: storable(source.appVersion, 64) || "unknown",
      protocolVersion: source.protocolVersion,
      clock: Math.max(0, Math.round(now)),
    };
  })();
}

export interface ReporterDeps {
  collect(): DeviceTelemetry;
  /** Sends one report; `signal` aborts it when the reporter stops. */
  send(telemetry: DeviceTelemetry, signal: AbortSignal): Promise<unknown>;
  /** The slow timer (default 60 s). */
  intervalMs?: number;
  /**
   * A report asked for soon (after a push, a failure) waits this long (default 1.5 s), so a
   * burst sends one, and it lands after the server's 1 s per-device interval since the push.
   */
  soonMs?: number;
  log(message: string, context?: Record<string, unknown>): void;
}

/**
 * Sends the device's telemetry on a slow timer and soon after something changed (a failed
 * push, a quarantined op). A server that does not know the call (an older one) or is not
 * reachable just misses a report: nothing here ever fails the sync.
 */
export class TelemetryReporter {
  private timer: NodeJS.Timeout | null = null;
  private soonTimer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private stopped = true;
  private abort = new AbortController();

  constructor(private readonly deps: ReporterDeps) {}

  start(): void {
    this.stopped = false;
    this.abort = new AbortController();
    this.timer = setInterval(() => void this.reportNow(), this.deps.intervalMs ?? 60_000);
    this.timer.unref();
    this.soon();
  }

  /** Asks for a report shortly (coalesced). */
  soon(): void {
    if (this.stopped || this.soonTimer) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = null;
      void this.reportNow();
    }, this.deps.soonMs ?? 1_500);
    this.soonTimer.unref();
  }

  /** Sends one report now (one at a time); resolves when it is answered or has failed. */
  reportNow(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.sending) return this.sending;
    this.sending = (async () => {
      try {
        await this.deps.send(this.deps.collect(), this.abort.signal);
      } catch (error) {
        this.deps.log("telemetry report not delivered", {
          error: error instanceof Error ? error.message : String(error),
        });
      } finally {
        this.sending = null;
      }
    })();
    return this.sending;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    if (this.timer) clearInterval(this.timer);
    if (this.soonTimer) clearTimeout(this.soonTimer);
    this.timer = null;
    this.soonTimer = null;
    await this.sending;
  }
}
