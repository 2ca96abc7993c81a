/**
 * The fields of a device its owner sees (the account page and the devices router): one Prisma
 * `select`, so the two lists cannot drift apart.
 */
export const DEVICE_SUMMARY_SELECT = {
  id: true,
  name: true,
  platform: true,
  appVersion: true,
  boundAt: true,
  lastSeenAt: true,
  revokedAt: true,
} as const;
