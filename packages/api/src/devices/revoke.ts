import type { PrismaClient } from "@chorus/db";

/*
 * Revoking a device, whoever asks: the account page (devices.revoke), the desktop's own
 * "Sign out" (the web app's /api/desktop/revoke, which records it with markDeviceRevoked and then
 * asks the sync server to run revokeDevice). This file imports nothing at run time, so the web app
 * can use markDeviceRevoked without the rest of this package.
 */

export interface DeviceRef {
  userId: string;
  deviceId: string;
}

/**
 * Records the revocation: the device is marked revoked and every refresh token it holds dies, in
 * one transaction. Idempotent. Returns false when the device is not this user's.
 */
export async function markDeviceRevoked(
  prisma: PrismaClient,
  { userId, deviceId }: DeviceRef,
  now: Date = new Date(),
): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    const device = await tx.device.findFirst({
      where: { id: deviceId, userId },
      select: { id: true },
    });
    if (!device) return false;
    await tx.device.updateMany({
      where: { id: deviceId, userId, revokedAt: null },
      data: { revokedAt: now },
    });
    await tx.refreshToken.updateMany({
      where: { deviceId, userId, revokedAt: null },
      data: { revokedAt: now },
    });
    return true;
  });
}

/** What revokeDevice needs of a sync server's services. */
export interface RevocationServices {
  prisma: PrismaClient;
  devices: { invalidate(deviceId: string): void };
  bus: {
    publishControl(event: {
      type: "device_revoked";
      userId: string;
      deviceId: string;
    }): Promise<void>;
  };
}

/**
 * The one way a device is revoked: recorded (above), then announced: this replica forgets the
 * device's cached status and `device_revoked` goes out on the bus, so every replica drops its
 * cache entry and closes the device's sockets at once. Announced even when the device was already
 * revoked (by the web app's sign-out, which records first and asks afterwards), so a retry still
 * closes whatever is open. Returns false when the device is not this user's.
 */
export async function revokeDevice(services: RevocationServices, ref: DeviceRef): Promise<boolean> {
  if (!(await markDeviceRevoked(services.prisma, ref))) return false;
  services.devices.invalidate(ref.deviceId);
  await services.bus.publishControl({ type: "device_revoked", ...ref });
  return true;
}
