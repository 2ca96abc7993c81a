import type { PrismaClient } from "@chorus/db";

export interface DeviceStatus {
  userId: string;
  revokedAt: Date | null;
}

interface Entry {
  status: DeviceStatus | null;
  /** Date.now() when the query that read `status` was sent: its age is counted from there. */
  at: number;
  /** Date.now() of the last call answered from this entry. */
  readAt: number;
}

/** Devices read again per query of the background refresh. */
const REFRESH_BATCH = 1_000;

/** What the cache needs of Prisma: one device, or several in one query. */
export type DeviceLookup = Pick<PrismaClient, "device">;

/**
 * Whether a device is bound and not revoked, looked up on every authenticated device call.
 * An answer is at most `ttlMs` old (counted from when its query was sent); a revocation
 * invalidates the entry at once (through the bus on every replica), and a lookup that was in
 * flight when its device was invalidated is not cached.
 *
 * Devices that keep calling do not wait for the database when their entry ages: every half
 * TTL, the entries read within the last TTL and older than half of it are read again in one
 * query for all of them. A sync server with a few hundred devices pushing every second then
 * runs one query per half TTL instead of one per device per TTL on the push path (ADR 0037).
 * When nothing was read for a TTL the refresh stops, so an idle server runs no query.
 */
export class DeviceStatusCache {
  private cache = new Map<string, Entry>();
  /** Lookups of one device in flight, shared by the calls that wait for it. */
  private pending = new Map<string, Promise<DeviceStatus | null>>();
  /** Counts invalidations; with `invalidatedAt`, tells a lookup its device was invalidated. */
  private invalidations = 0;
  /** Per device, the invalidation count when it was last invalidated (while lookups run). */
  private invalidatedAt = new Map<string, number>();
  /** Lookups and refreshes in flight; `invalidatedAt` is only needed while there are some. */
  private inFlight = 0;
  private refreshTimer: NodeJS.Timeout | null = null;
  private refreshing = false;

  constructor(
    private readonly prisma: DeviceLookup,
    private readonly ttlMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  async status(deviceId: string): Promise<DeviceStatus | null> {
    const hit = this.cached(deviceId);
    if (hit !== undefined) return hit;
    let lookup = this.pending.get(deviceId);
    if (!lookup) {
      const started = this.lookUp(deviceId).finally(() => {
        if (this.pending.get(deviceId) === started) this.pending.delete(deviceId);
      });
      lookup = started;
      this.pending.set(deviceId, started);
    }
    return lookup;
  }

  /**
   * The device's status when the cache holds a fresh answer (counted as a read, as status()
   * counts it), else undefined: the device check's path without a promise when no lookup is
   * needed (ADR 0039). status() answers from here first.
   */
  cached(deviceId: string): DeviceStatus | null | undefined {
    const hit = this.cache.get(deviceId);
    if (hit === undefined) return undefined;
    const now = this.now();
    if (now - hit.at >= this.ttlMs) return undefined;
    hit.readAt = now;
    this.scheduleRefresh();
    return hit.status;
  }

  invalidate(deviceId: string): void {
    this.cache.delete(deviceId);
    // A lookup sent before this must not store what it read (the device may be revoked since).
    this.pending.delete(deviceId);
    if (this.inFlight > 0) this.invalidatedAt.set(deviceId, ++this.invalidations);
  }

  private async lookUp(deviceId: string): Promise<DeviceStatus | null> {
    const sentAt = this.now();
    const since = this.begin();
    try {
      const device = await this.prisma.device.findUnique({
        where: { id: deviceId },
        select: { userId: true, revokedAt: true },
      });
      if (!this.invalidatedSince(deviceId, since)) {
        this.cache.set(deviceId, { status: device, at: sentAt, readAt: sentAt });
        this.scheduleRefresh();
      }
      return device;
    } finally {
      this.end();
    }
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refresh();
    }, this.ttlMs / 2);
    this.refreshTimer.unref();
  }

  /** Reads again, in one query, the entries still in use that are past half their TTL. */
  private async refresh(): Promise<void> {
    const sentAt = this.now();
    const due: string[] = [];
    let inUse = false;
    for (const [deviceId, entry] of this.cache) {
      if (sentAt - entry.readAt >= this.ttlMs) {
        // Unused for a TTL: dropped once expired, looked up again if it is ever called.
        if (sentAt - entry.at >= this.ttlMs) this.cache.delete(deviceId);
        continue;
      }
      inUse = true;
      if (sentAt - entry.at >= this.ttlMs / 2) due.push(deviceId);
    }
    if (inUse) this.scheduleRefresh();
    if (due.length === 0 || this.refreshing) return;
    this.refreshing = true;
    const since = this.begin();
    try {
      for (let start = 0; start < due.length; start += REFRESH_BATCH) {
        await this.reread(due.slice(start, start + REFRESH_BATCH), sentAt, since);
      }
    } catch {
      // Nothing is lost: the entries expire, and the next call of each device looks it up.
    } finally {
      this.refreshing = false;
      this.end();
    }
  }

  /** Reads the devices again in one query and stores what it read, unless invalidated since. */
  private async reread(ids: string[], sentAt: number, since: number): Promise<void> {
    const rows = await this.prisma.device.findMany({
      where: { id: { in: ids } },
      select: { id: true, userId: true, revokedAt: true },
    });
    const found = new Map(rows.map((row) => [row.id, row]));
    for (const deviceId of ids) {
      if (this.invalidatedSince(deviceId, since)) continue;
      const entry = this.cache.get(deviceId);
      // A lookup may have stored a newer answer meanwhile.
      if (entry && entry.at >= sentAt) continue;
      const row = found.get(deviceId);
      this.cache.set(deviceId, {
        status: row ? { userId: row.userId, revokedAt: row.revokedAt } : null,
        at: sentAt,
        readAt: entry?.readAt ?? sentAt,
      });
    }
  }

  private begin(): number {
    this.inFlight++;
    return this.invalidations;
  }

  private end(): void {
    if (--this.inFlight === 0) this.invalidatedAt.clear();
  }

  private invalidatedSince(deviceId: string, since: number): boolean {
    return (this.invalidatedAt.get(deviceId) ?? 0) > since;
  }
}
