import { describe, expect, it } from "vitest";
import {
  describeSyncError,
  isSyncError,
  parseSyncError,
  SYNC_ERROR_TRPC_CODE,
  SyncProtocolError,
  syncError,
} from "../src/index.js";

describe("sync errors", () => {
  it("builds each error kind with its recovery data", () => {
    expect(syncError("resync_required", { compactedUpTo: 120 })).toEqual({
      type: "resync_required",
      compactedUpTo: 120,
    });
    expect(syncError("lamport_regression", { storedMax: 77 })).toEqual({
      type: "lamport_regression",
      storedMax: 77,
    });
    expect(syncError("rate_limited", { retryAfterMs: 1500 }).retryAfterMs).toBe(1500);
    expect(syncError("payload_too_large", { limit: 10, actual: 11 }).actual).toBe(11);
    expect(syncError("ack_beyond_head", { newestId: 0 }).newestId).toBe(0);
  });

  it("refuses to build an error with invalid data", () => {
    expect(() => syncError("resync_required", { compactedUpTo: -1 })).toThrow();
  });

  it("reads the error back from a TRPCClientError-like object, a shape, or a cause", () => {
    const error = syncError("resync_required", { compactedUpTo: 120 });
    const clientError = Object.assign(new Error("x"), { data: { code: "X", syncError: error } });
    expect(parseSyncError(clientError)).toEqual(error);
    expect(parseSyncError({ shape: { data: { syncError: error } } })).toEqual(error);
    expect(parseSyncError({ cause: new SyncProtocolError(error) })).toEqual(error);
    expect(parseSyncError(new SyncProtocolError(error))).toEqual(error);
    expect(parseSyncError(error)).toEqual(error);
  });

  it("returns null for anything that is not a sync error", () => {
    expect(parseSyncError(new Error("boom"))).toBeNull();
    expect(parseSyncError({ data: { syncError: { type: "resync_required" } } })).toBeNull();
    expect(parseSyncError({ data: { syncError: { type: "teapot" } } })).toBeNull();
    expect(parseSyncError(null)).toBeNull();
    expect(parseSyncError("resync_required")).toBeNull();
    expect(isSyncError({ type: "rate_limited", retryAfterMs: 5 })).toBe(true);
  });

  it("maps every kind to a 4xx-class tRPC code so clients do not retry it as a server fault", () => {
    expect(SYNC_ERROR_TRPC_CODE).toEqual({
      resync_required: "PRECONDITION_FAILED",
      lamport_regression: "CONFLICT",
      rate_limited: "TOO_MANY_REQUESTS",
      payload_too_large: "PAYLOAD_TOO_LARGE",
      ack_beyond_head: "BAD_REQUEST",
      invalid_input: "BAD_REQUEST",
      upgrade_required: "PRECONDITION_REQUIRED",
      device_revoked: "UNAUTHORIZED",
      key_exists: "CONFLICT",
      key_version_conflict: "CONFLICT",
      key_missing: "PRECONDITION_FAILED",
      key_epoch_stale: "CONFLICT",
    });
  });

  it("describes what to do next", () => {
    expect(describeSyncError(syncError("lamport_regression", { storedMax: 9 }))).toBe(
      "lamportTs must exceed this device's stored maximum 9; raise the clock above it, re-stamp pending ops and retry",
    );
    expect(new SyncProtocolError(syncError("rate_limited", { retryAfterMs: 5 })).message).toBe(
      "too many requests; retry in 5 ms",
    );
  });
});
