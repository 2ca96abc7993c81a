import { EventEmitter } from "node:events";
import type { PrismaClient } from "@chorus/db";
import { Bounds, DEFAULT_RESOURCE_BOUNDS, type ResourceBounds } from "./bounds.js";
import { type CompactionSettings, DEFAULT_COMPACTION_SETTINGS } from "./compaction/compact-user.js";
import { runCompaction } from "./compaction/runner.js";
import { type CompactionService, noopMetrics, type Services, type SyncMetrics } from "./context.js";
import { DeviceStatusCache } from "./devices/status-cache.js";
import { Presence } from "./presence.js";
import {
  DEFAULT_RATE_LIMITS,
  type RateLimitConfig,
  RateLimits,
  type SharedLimitStore,
} from "./rate-limits.js";
import { AckBuffer } from "./sync/ack-buffer.js";
import { type Bus, createInProcessBus } from "./sync/bus.js";

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
  /** A committed push's ops could not be published; they are retried in the background. */
  onPublishError?: (error: unknown, context: { userId: string; attempt: number }) => void;
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
  const stops: Array<() => void> = [];
  return {
    prisma: options.prisma,
    bus,
    acks,
    devices,
    presence,
    limits: new RateLimits(options.rateLimits ?? DEFAULT_RATE_LIMITS, options.limitStore),
    bounds: new Bounds({ ...DEFAULT_RESOURCE_BOUNDS, ...options.bounds }),
    metrics: options.metrics ?? noopMetrics,
    compaction,
    onPublishError: options.onPublishError ?? (() => {}),
    start() {
      acks.start();
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
    },
  };
}
