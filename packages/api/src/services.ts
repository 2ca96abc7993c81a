import { EventEmitter } from "node:events";
import type { PrismaClient } from "@chorus/db";
import { Bounds, DEFAULT_RESOURCE_BOUNDS, type ResourceBounds } from "./bounds.js";
import { type CompactionSettings, DEFAULT_COMPACTION_SETTINGS } from "./compaction/compact-user.js";
import { runCompaction } from "./compaction/runner.js";
import { type CompactionService, noopMetrics, type Services, type SyncMetrics } from "./context.js";
import { LastSeenWriter } from "./devices/last-seen.js";
import { DeviceStatusCache } from "./devices/status-cache.js";
import { DeviceDiagnostics, type DiagnosticsOptions } from "./diagnostics/telemetry.js";
import { ThroughputHistory, type ThroughputOptions } from "./diagnostics/throughput.js";
import { Presence } from "./presence.js";
import {
  DEFAULT_RATE_LIMITS,
  type RateLimitConfig,
  RateLimits,
  type SharedLimitStore,
} from "./rate-limits.js";
import { AckBuffer } from "./sync/ack-buffer.js";
import { type Bus, createInProcessBus } from "./sync/bus.js";
import { BACKFILL_PAGE, Fanout } from "./sync/fanout.js";
import { readPage } from "./sync/ops-store.js";
import { ResyncReadAhead } from "./sync/read-ahead.js";

export interface CreateServicesOptions {
  prisma: PrismaClient;
  /** Needed by compaction for its cross-replica lock (a session outside the pool). */
  databaseUrl?: string;
  compaction?: Partial<CompactionSettings>;
  bus?: Bus;
  metrics?: SyncMetrics;
  rateLimits?: RateLimitConfig;
  /** Redis for the rate limits, shared by every replica; unset: counted in this process. */
  limitStore?: SharedLimitStore;
  ackFlushIntervalMs?: number;
  bounds?: Partial<ResourceBounds>;
  onAckFlushError?: (error: unknown) => void;
  /** Writing live ops to a subscriber failed, or a user's live stream broke. */
  onFanoutError?: (error: unknown) => void;
  /** A committed push's ops could not be published; they are retried in the background. */
  onPublishError?: (error: unknown, context: { userId: string; attempt: number }) => void;
  /** At most one devices.last_seen_at write per device in this many ms (default 60 s). */
  lastSeenThrottleMs?: number;
  onLastSeenError?: (error: unknown) => void;
  /** Device telemetry: this replica's name, the report interval, write errors. */
  diagnostics?: DiagnosticsOptions;
  /** Throughput history: the sampling interval, write errors (the replica is the telemetry's). */
  throughput?: Omit<ThroughputOptions, "replica">;
}

/** Wires the long-lived collaborators of one server process; call start/stop around its life. */
export function createServices(options: CreateServicesOptions): Services & {
  start(): void;
  stop(): Promise<void>;
} {
  const bus = options.bus ?? createInProcessBus();
  const acks = new AckBuffer(options.prisma, {
    intervalMs: options.ackFlushIntervalMs ?? 5_000,
    ...(options.onAckFlushError ? { onFlushError: options.onAckFlushError } : {}),
  });
  const devices = new DeviceStatusCache(options.prisma);
  const lastSeen = new LastSeenWriter(options.prisma, {
    ...(options.lastSeenThrottleMs !== undefined ? { throttleMs: options.lastSeenThrottleMs } : {}),
    ...(options.onLastSeenError ? { onWriteError: options.onLastSeenError } : {}),
  });
  const compactionSettings: CompactionSettings = {
    ...DEFAULT_COMPACTION_SETTINGS,
    ...options.compaction,
  };
  const progress = new EventEmitter();
  progress.setMaxListeners(0);
  const compaction: CompactionService = {
    settings: compactionSettings,
    progress,
    nextScheduledAt: null,
    run(runOptions) {
      if (!options.databaseUrl) throw new Error("compaction needs the database URL for its lock");
      return runCompaction(
        {
          prisma: options.prisma,
          databaseUrl: options.databaseUrl,
          acks,
          settings: compactionSettings,
          requestAckFlush: (userId) => bus.requestAckFlush(userId),
        },
        {
          ...runOptions,
          onProgress: (update) => {
            progress.emit("progress", update);
            runOptions.onProgress?.(update);
          },
        },
      );
    },
  };
  const presence = new Presence();
  const diagnostics = new DeviceDiagnostics(options.prisma, options.diagnostics);
  const throughput = new ThroughputHistory(options.prisma, {
    ...options.throughput,
    replica: diagnostics.replica,
  });
  const metrics = options.metrics ?? noopMetrics;
  const stops: Array<() => void> = [];
  // The counters feed the throughput history too (kept in PostgreSQL for the console).
  const counted: SyncMetrics = {
    ...metrics,
    opsPushed: (count) => {
      metrics.opsPushed(count);
      throughput.opsPushed(count);
    },
    fanoutDelivered: (count) => {
      metrics.fanoutDelivered(count);
      throughput.opsDelivered(count);
    },
  };
  const bounds = new Bounds({ ...DEFAULT_RESOURCE_BOUNDS, ...options.bounds });
  // A page read without the watermark check, bounded as pulls are: the fan-out after a gap
  // reads as the subscription does after its first page (it has read in order from a checked
  // position), and a full resync holds every surviving op below its position.
  const readUnchecked = (userId: string, since: number, limit: number) =>
    readPage(options.prisma, userId, since, limit, {
      checkWatermark: false,
      maxBytes: bounds.settings.pageMaxBytes,
    });
  const readAfter = (userId: string, after: number) => readUnchecked(userId, after, BACKFILL_PAGE);
  const resyncPages = new ResyncReadAhead(readUnchecked);
  return {
    prisma: options.prisma,
    bus,
    resyncPages,
    fanout: new Fanout(bus, readAfter, counted, options.onFanoutError),
    acks,
    devices,
    lastSeen,
    presence,
    limits: new RateLimits(options.rateLimits ?? DEFAULT_RATE_LIMITS, options.limitStore),
    bounds,
    metrics: counted,
    compaction,
    diagnostics,
    onPublishError: options.onPublishError ?? (() => {}),
    start() {
      acks.start();
      throughput.start();
      bus.sharePresence(() => presence.devices());
      stops.push(
        bus.onControl((event) => {
          if (event.type === "device_revoked") devices.invalidate(event.deviceId);
        }),
        // Compaction on any replica asks every replica to write its buffered ACKs first.
        bus.onAckFlushRequest(async (userId) => {
          await acks.flush(userId === null ? {} : { userId });
        }),
      );
    },
    async stop() {
      for (const stop of stops.splice(0)) stop();
      await acks.stop();
      await lastSeen.settle();
      await diagnostics.settle();
      await throughput.stop();
      await resyncPages.stop();
    },
  };
}
