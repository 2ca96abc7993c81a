import type { DeviceRow } from "./types";

/** Where the stale cut-off stands now, from the server's countdown at fetch time. */
export function staleCountdown(
  device: Pick<DeviceRow, "staleInMs" | "stale" | "revokedAt">,
  fetchedAt: number,
  now: number,
): { revoked: true } | { revoked: false; stale: boolean; remainingMs: number } {
  if (device.revokedAt !== null) return { revoked: true };
  const remainingMs = fetchedAt + device.staleInMs - now;
  return { revoked: false, stale: device.stale || remainingMs <= 0, remainingMs };
}

/** The cursor the server would count for this device: the newer of stored and buffered. */
export function effectiveCursor(device: Pick<DeviceRow, "storedCursor" | "bufferedCursor">) {
  return Math.max(device.storedCursor ?? 0, device.bufferedCursor ?? 0);
}
