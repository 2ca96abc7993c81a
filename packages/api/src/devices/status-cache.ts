import type { PrismaClient } from "@chorus/db";

export interface DeviceStatus {
  userId: string;
  revokedAt: Date | null;
}

/**
 * Whether a device is bound and not revoked, looked up on every authenticated device call.
 * Cached briefly; a revocation invalidates the entry at once (through the bus on every replica).
 */
export class DeviceStatusCache {
  private cache = new Map<string, { status: DeviceStatus | null; at: number }>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly ttlMs = 5_000,
  ) {}

  async status(deviceId: string): Promise<DeviceStatus | null> {
    const hit = this.cache.get(deviceId);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.status;
    const device = await this.prisma.device.findUnique({
      where: { id: deviceId },
      select: { userId: true, revokedAt: true },
    });
    this.cache.set(deviceId, { status: device, at: Date.now() });
    return device;
  }

  invalidate(deviceId: string): void {
    this.cache.delete(deviceId);
  }
}
