import type { EventEmitter } from "node:events";
import type { Principal } from "@chorus/auth";
import type { PrismaClient } from "@chorus/db";
import type { Bounds } from "./bounds.js";
import type { CompactionSettings } from "./compaction/compact-user.js";
import type { RunOptions, RunResult } from "./compaction/runner.js";
import type { LastSeenWriter } from "./devices/last-seen.js";
import type { DeviceStatusCache } from "./devices/status-cache.js";
import type { DeviceDiagnostics } from "./diagnostics/telemetry.js";
import type { Presence } from "./presence.js";
import type { RateLimits } from "./rate-limits.js";
import type { AckBuffer } from "./sync/ack-buffer.js";
import type { Bus } from "./sync/bus.js";
import type { Fanout } from "./sync/fanout.js";
import type { ResyncReadAhead } from "./sync/read-ahead.js";

/** Who is calling, as proven by a verified access token. */
export type { Principal };

/** Counters the procedures feed; the server exports them (Prometheus). */
export interface SyncMetrics {
  opsPushed(count: number): void;
  duplicates(count: number): void;
  conflict(): void;
  fanoutDelivered(count: number): void;
  slowConsumerDisconnected(): void;
}

export const noopMetrics: SyncMetrics = {
  opsPushed() {},
  duplicates() {},
  conflict() {},
  fanoutDelivered() {},
  slowConsumerDisconnected() {},
};

/** Runs compaction (one runner across replicas) and reports its progress ("progress" events). */
export interface CompactionService {
  readonly settings: CompactionSettings;
  readonly progress: EventEmitter;
  /** When the nightly run fires next on this replica (set by its scheduler). */
  nextScheduledAt: Date | null;
  run(options: RunOptions): Promise<RunResult>;
}

/** Long-lived collaborators shared by every request of a server process. */
export interface Services {
  prisma: PrismaClient;
  bus: Bus;
  /** This replica's fan-out of live ops to its subscribed sockets (sync/fanout.ts). */
  fanout: Fanout;
  acks: AckBuffer;
  devices: DeviceStatusCache;
  /** Throttled writer of devices.last_seen_at. */
  lastSeen: LastSeenWriter;
  presence: Presence;
  limits: RateLimits;
  bounds: Bounds;
  metrics: SyncMetrics;
  compaction: CompactionService;
  /** Device telemetry and socket whereabouts, for "why is this device behind?". */
  diagnostics: DeviceDiagnostics;
  /**
   * Full resync pages read ahead (sync/read-ahead.ts, ADR 0045); without it each page is read
   * when asked for.
   */
  resyncPages?: ResyncReadAhead;
  /** A committed push's ops could not be published (it is retried in the background). */
  onPublishError(error: unknown, context: { userId: string; attempt: number }): void;
}

/** The WebSocket a subscription runs on, for back-pressure checks. */
export interface SocketLike {
  readonly bufferedAmount: number;
  close(code?: number, reason?: string): void;
}

/** What every procedure sees. Built per request (HTTP) or per connection (WebSocket). */
export interface Context {
  /** The database is `services.prisma`: one client per process, shared by every request. */
  services: Services;
  principal: Principal | null;
  /** Why the presented token was refused, when one was presented and refused. */
  authError: string | null;
  socket: SocketLike | null;
  /** Bytes queued on `socket` past which a subscriber is dropped as too slow. */
  slowConsumerBytes: number;
  /**
   * The protocol version the client stated (HTTP header `x-chorus-protocol`, WebSocket
   * `connectionParams.protocol`); absent: a client from before the header, version 1.
   */
  protocolVersion?: string | null;
}
