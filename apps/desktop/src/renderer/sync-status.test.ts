import type { Diagnostics } from "@chorus/desktop-sync/contract";
import { describe, expect, it } from "vitest";
import { currentError, relativeTime, syncStatus } from "./sync-status.js";

const account = {
  userId: "0b5e7c9e-3c8e-4d4b-9a57-2f1d1f7c2a11",
  email: "ada@example.test",
  webUrl: "http://127.0.0.1:3000",
  syncUrl: "http://127.0.0.1:4000",
  signedIn: true,
};

function diagnostics(overrides: Partial<Diagnostics> = {}): Diagnostics {
  return {
    profile: "default",
    deviceId: "5f0c2a57-7d0e-4c1b-8d2f-0a6c5b9e1f22",
    mode: "hybrid",
    connection: "connected",
    lamport: 3,
    pendingCount: 0,
    oldestPendingAgeMs: null,
    cursor: 10,
    lastError: null,
    quarantinedCount: 0,
    quarantined: [],
    pending: [],
    overwrittenCount: 0,
    lastSyncAt: "2026-01-01T10:00:00.000Z",
    account,
    resync: null,
    revokedAt: null,
    ...overrides,
  };
}

describe("the header's sync status", () => {
  it("never says 'not syncing' alone: local, never signed in, signed out and offline differ", () => {
    const kinds = [
      diagnostics({ mode: "local", connection: "disabled" }),
      diagnostics({ account: null, connection: "disabled", lastSyncAt: null }),
      diagnostics({ account: { ...account, signedIn: false }, connection: "disabled" }),
      diagnostics({ connection: "offline", pendingCount: 3 }),
    ].map((d) => syncStatus(d).kind);
    expect(kinds).toEqual(["local", "not_signed_in", "signed_out", "offline"]);
  });

  it("a fresh profile is not signed in, with nothing waiting (not 'all changes uploaded')", () => {
    expect(
      syncStatus(
        diagnostics({ account: null, connection: "disabled", lamport: 0, lastSyncAt: null }),
      ),
    ).toEqual({ kind: "not_signed_in", pending: 0 });
  });

  it("offline counts the changes waiting", () => {
    expect(syncStatus(diagnostics({ connection: "offline", pendingCount: 3 }))).toEqual({
      kind: "offline",
      pending: 3,
    });
  });

  it("a live connection refused but HTTP answered is polling, not offline, and counts the changes waiting", () => {
    expect(syncStatus(diagnostics({ connection: "polling", pendingCount: 2 }))).toEqual({
      kind: "polling",
      pending: 2,
    });
    expect(syncStatus(diagnostics({ connection: "polling" }))).toEqual({
      kind: "polling",
      pending: 0,
    });
  });

  it("polling reaches the server: an old refused token or locked key is not the status", () => {
    const before = "2026-01-01T10:05:00.000Z";
    for (const code of ["unauthorized", "encryption_locked"]) {
      const d = diagnostics({
        connection: "polling",
        lastSyncAt: "2026-01-01T10:00:00.000Z",
        lastError: { code, message: code, at: before },
      });
      expect(syncStatus(d).kind).toBe("polling");
    }
    // A device the server revoked stops polling: signed out, as before.
    expect(syncStatus(diagnostics({ connection: "revoked" })).kind).toBe("signed_out");
  });

  it("synced carries the last sync time; uploading while changes wait", () => {
    expect(syncStatus(diagnostics())).toEqual({ kind: "synced", at: "2026-01-01T10:00:00.000Z" });
    expect(syncStatus(diagnostics({ pendingCount: 2 }))).toEqual({ kind: "uploading", pending: 2 });
  });

  it("a token the server refuses (revoked) is signed out, not offline", () => {
    const refused = diagnostics({
      connection: "offline",
      lastError: { code: "unauthorized", message: "401", at: "2026-01-01T10:05:00.000Z" },
    });
    expect(syncStatus(refused).kind).toBe("signed_out");
    expect(syncStatus(diagnostics({ connection: "revoked" })).kind).toBe("signed_out");
    expect(syncStatus(diagnostics({ connection: "update_required" })).kind).toBe("update_required");
  });

  it("an encrypted account this computer has no key for is locked, not connecting", () => {
    const locked = diagnostics({
      connection: "disabled",
      pendingCount: 3,
      lastError: {
        code: "encryption_locked",
        message: "enter the encryption password",
        at: "2026-01-01T10:05:00.000Z",
      },
    });
    expect(syncStatus(locked)).toEqual({ kind: "locked", pending: 3 });
  });
});

describe("the last error", () => {
  it("is current until the device syncs again, then it is history", () => {
    const failed = { code: "offline", message: "down", at: "2026-01-01T10:05:00.000Z" };
    expect(currentError(diagnostics({ lastError: failed }))).toEqual(failed);
    expect(
      currentError(diagnostics({ lastError: failed, lastSyncAt: "2026-01-01T10:06:00.000Z" })),
    ).toBeNull();
  });
});

describe("relative times", () => {
  it("speak the user's language", () => {
    const now = Date.parse("2026-01-01T10:02:00.000Z");
    expect(relativeTime("2026-01-01T10:00:00.000Z", "en", now)).toBe("2 minutes ago");
    expect(relativeTime("2026-01-01T10:02:00.000Z", "en", now)).toBe("now");
    expect(relativeTime("2026-01-01T10:00:00.000Z", "de", now)).toBe("vor 2 Minuten");
  });
});
