import type { PrismaClient } from "@chorus/db";

export interface LastSeenOptions {
  /** At most one write per device in this many ms (default 60 s). */
  throttleMs?: number;
  now?: () => Date;
  onWriteError?: (error: unknown) => void;
}

/**
 * Keeps `devices.last_seen_at` true: every push, ack and subscription of a device touches it,
 * and at most one UPDATE per device per `throttleMs` reaches the database, so the account page's
 * "last synced" is never older than the throttle while the hot path stays free of writes.
 * The column only moves forward.
 */
export class LastSeenWriter {
  private written = new Map<string, number>();
  private inFlight = new Set<Promise<void>>();
  private readonly throttleMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: LastSeenOptions = {},
  ) {
    this.throttleMs = options.throttleMs ?? 60_000;
    this.now = options.now ?? (() => new Date());
  }

  /** Records activity of a device now; writes unless one was written within the throttle. */
  touch(deviceId: string, options: { force?: boolean } = {}): void {
    const at = this.now();
    const last = this.written.get(deviceId);
    if (!options.force && last !== undefined && at.getTime() - last < this.throttleMs) return;
    if (this.written.size >= 10_000) this.prune(at.getTime());
    this.written.set(deviceId, at.getTime());
    const write = this.prisma.$executeRaw`
      UPDATE devices SET last_seen_at = ${at}
       WHERE id = ${deviceId}::uuid AND (last_seen_at IS NULL OR last_seen_at < ${at})`
      .then(() => undefined)
      .catch((error: unknown) => {
        // Let the next touch try again.
        if (this.written.get(deviceId) === at.getTime()) this.written.delete(deviceId);
        this.options.onWriteError?.(error);
      })
      .finally(() => this.inFlight.delete(write));
    this.inFlight.add(write);
  }

  private prune(nowMs: number): void {
    for (const [id, ms] of this.written) if (nowMs - ms >= this.throttleMs) this.written.delete(id);
  }

  /** Waits for the writes already started (shutdown, tests). */
  async settle(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }
}
