import { describe, expect, it } from "vitest";
import type { Diagnostics } from "../contract.js";
import { formatStatus } from "./format.js";

function diagnostics(overrides: Partial<Diagnostics> = {}): Diagnostics {
  return {
    profile: "work",
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
    account: {
      userId: "0b5e7c9e-3c8e-4d4b-9a57-2f1d1f7c2a11",
      email: "ada@example.test",
      webUrl: null,
      syncUrl: "http://127.0.0.1:4000",
      signedIn: true,
    },
    resync: null,
    revokedAt: null,
    ...overrides,
  };
}

describe("status on the command line", () => {
  it("polling says it is connected without live updates, and why", () => {
    const line = formatStatus(diagnostics({ connection: "polling" }))
      .split("\n")
      .find((l) => l.startsWith("connection"));
    expect(line).toMatch(/^connection {3}polling \(connected without live updates: /);
    expect(line).toMatch(/WebSocket cannot be opened/);
    expect(line).toMatch(/pulled over HTTP every few seconds/);
  });

  it("connected and offline say only the state", () => {
    for (const connection of ["connected", "offline"] as const) {
      const line = formatStatus(diagnostics({ connection }))
        .split("\n")
        .find((l) => l.startsWith("connection"));
      expect(line).toBe(`connection   ${connection}`);
    }
  });
});
