import type { Diagnostics, SyncErrorInfo } from "@chorus/desktop-sync/contract";

/**
 * What the header tells a person about sync, derived from the engine's diagnostics. Each kind
 * has one sentence and one action (see StatusBar). "Not syncing" is never said on its own:
 * Local mode, never signed in, signed out (or revoked) and offline are different situations
 * with different things to do.
 */
export type SyncStatus =
  /** Local mode: on purpose, nothing leaves this computer. */
  | { kind: "local"; pending: number }
  /** Never signed in on this profile. */
  | { kind: "not_signed_in"; pending: number }
  /** Was signed in; the credential was refused (revoked on the web, or signed out). */
  | { kind: "signed_out"; pending: number }
  | { kind: "connecting"; pending: number }
  /** The server cannot be reached; changes wait and the engine keeps trying. */
  | { kind: "offline"; pending: number }
  /**
   * The server answers over HTTP but the live connection (WebSocket) is refused, by a proxy or
   * firewall: changes upload, and other devices' changes arrive every few seconds, not live.
   */
  | { kind: "polling"; pending: number }
  | { kind: "resyncing" }
  /** The server does not serve this build's protocol: nothing syncs until the app is updated. */
  | { kind: "update_required" }
  /** The account is end-to-end encrypted and this computer lacks the key: enter the password. */
  | { kind: "locked"; pending: number }
  | { kind: "uploading"; pending: number }
  /** Connected with nothing waiting; `at` is when changes last moved. */
  | { kind: "synced"; at: string | null };

/** The last failure, unless the device has synced since (then it is history, not a problem). */
export function currentError(diagnostics: Diagnostics): SyncErrorInfo | null {
  const { lastError, lastSyncAt } = diagnostics;
  if (!lastError) return null;
  if (lastSyncAt !== null && Date.parse(lastSyncAt) >= Date.parse(lastError.at)) return null;
  return lastError;
}

export function syncStatus(diagnostics: Diagnostics): SyncStatus {
  const pending = diagnostics.pendingCount;
  const { account, connection, mode } = diagnostics;
  if (mode === "local") return { kind: "local", pending };
  if (!account) return { kind: "not_signed_in", pending };
  // Polling is talking to the server as much as connected is (over HTTP instead of a socket).
  const reached = connection === "connected" || connection === "polling";
  const refused =
    connection === "revoked" || (currentError(diagnostics)?.code === "unauthorized" && !reached);
  if (!account.signedIn || refused) return { kind: "signed_out", pending };
  if (!reached && currentError(diagnostics)?.code === "encryption_locked") {
    return { kind: "locked", pending };
  }
  switch (connection) {
    case "connected":
      return pending > 0
        ? { kind: "uploading", pending }
        : { kind: "synced", at: diagnostics.lastSyncAt };
    case "offline":
      return { kind: "offline", pending };
    case "polling":
      return { kind: "polling", pending };
    case "resyncing":
      return { kind: "resyncing" };
    case "update_required":
      return { kind: "update_required" };
    default:
      return { kind: "connecting", pending };
  }
}

const UNITS: ReadonlyArray<[Intl.RelativeTimeFormatUnit, number]> = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

/** "just now", "2 minutes ago", "yesterday", in the given language. */
export function relativeTime(iso: string, locale: string, now = Date.now()): string {
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  const elapsed = Math.max(0, now - Date.parse(iso));
  for (const [unit, ms] of UNITS) {
    if (elapsed >= ms) return format.format(-Math.floor(elapsed / ms), unit);
  }
  return format.format(0, "second");
}
