import type { Prisma, PrismaClient } from "@chorus/db";

/**
 * ACKs are held in memory per (user, device) and written to device_sync_cursor in batches: every
 * `intervalMs`, when a device disconnects, before compaction reads a user's cursors, and on
 * shutdown. This is the ONLY writer of device_sync_cursor, and it never moves a cursor back.
 */
export interface BufferedAck {
  userId: string;
  deviceId: string;
  lastSeenId: number;
  at: Date;
}

type Db = PrismaClient | Prisma.TransactionClient;

export interface AckBufferOptions {
  intervalMs?: number;
  now?: () => Date;
  onFlushError?: (error: unknown) => void;
}

const key = (userId: string, deviceId: string) => `${userId}/${deviceId}`;

export class AckBuffer {
  private pending = new Map<string, BufferedAck>();
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: AckBufferOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 5_000;
    this.now = options.now ?? (() => new Date());
  }

  /** Keeps the highest id seen for the device; returns what is now buffered for it. */
  record(userId: string, deviceId: string, lastSeenId: number): BufferedAck {
    const k = key(userId, deviceId);
    const previous = this.pending.get(k);
    const entry: BufferedAck = {
      userId,
      deviceId,
      lastSeenId: Math.max(previous?.lastSeenId ?? 0, lastSeenId),
      at: this.now(),
    };
    this.pending.set(k, entry);
    return entry;
  }

  /** What is buffered and not yet written, for one user (compaction, console) or all. */
  peek(userId?: string): BufferedAck[] {
    const all = [...this.pending.values()];
    return userId === undefined ? all : all.filter((ack) => ack.userId === userId);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Age in ms of the oldest ACK still waiting to be written (0 when none). */
  oldestPendingAgeMs(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const ack of this.pending.values()) oldest = Math.min(oldest, ack.at.getTime());
    return Number.isFinite(oldest) ? Math.max(0, this.now().getTime() - oldest) : 0;
  }

  /**
   * Writes the buffered ACKs matching the filter. Pass a transaction client to make the write
   * part of a larger transaction (compaction); the entries are put back if the write fails.
   */
  async flush(filter: { userId?: string; deviceId?: string; db?: Db } = {}): Promise<number> {
    const taken: BufferedAck[] = [];
    for (const [k, ack] of this.pending) {
      if (filter.userId !== undefined && ack.userId !== filter.userId) continue;
      if (filter.deviceId !== undefined && ack.deviceId !== filter.deviceId) continue;
      taken.push(ack);
      this.pending.delete(k);
    }
    if (taken.length === 0) return 0;
    try {
      await writeCursors(filter.db ?? this.prisma, taken);
    } catch (error) {
      for (const ack of taken) this.restore(ack);
      throw error;
    }
    return taken.length;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.flush().catch((error: unknown) => this.options.onFlushError?.(error));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes everything still buffered. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private restore(ack: BufferedAck): void {
    const k = key(ack.userId, ack.deviceId);
    const newer = this.pending.get(k);
    if (!newer) this.pending.set(k, ack);
    else newer.lastSeenId = Math.max(newer.lastSeenId, ack.lastSeenId);
  }
}

async function writeCursors(db: Db, acks: BufferedAck[]): Promise<void> {
  await db.$executeRaw`
    INSERT INTO device_sync_cursor (user_id, device_id, last_seen_id, last_seen_at)
    SELECT a.user_id, a.device_id, a.last_seen_id, a.last_seen_at
      FROM unnest(${acks.map((a) => a.userId)}::uuid[], ${acks.map((a) => a.deviceId)}::uuid[],
                  ${acks.map((a) => BigInt(a.lastSeenId))}::bigint[], ${acks.map((a) => a.at)}::timestamptz[])
           AS a(user_id, device_id, last_seen_id, last_seen_at)
      -- a device deleted since it acked has nothing left to track
      WHERE EXISTS (SELECT 1 FROM devices d WHERE d.id = a.device_id)
    ON CONFLICT (user_id, device_id) DO UPDATE
      SET last_seen_id = GREATEST(device_sync_cursor.last_seen_id, EXCLUDED.last_seen_id),
          last_seen_at = GREATEST(device_sync_cursor.last_seen_at, EXCLUDED.last_seen_at)`;
}
