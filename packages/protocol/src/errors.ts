import { z } from "zod";
import { Cursor, LamportTs, OpId } from "./wire.js";

/*
 * Sync errors are values a device acts on, not strings it parses. The server throws a tRPC
 * error whose `cause` is a `SyncProtocolError`; its errorFormatter copies the typed object to
 * `shape.data.syncError` (`syncError: parseSyncError(error.cause)`), and the client reads it
 * back with `parseSyncError(err)` from the TRPCClientError (`err.data.syncError`).
 */

/** since < compacted_up_to: the ops the device still needs are gone; rebuild from a full pull. */
export const ResyncRequired = z.object({
  type: z.literal("resync_required"),
  compactedUpTo: Cursor,
});

/** The batch's first new lamportTs is not above the device's stored maximum. */
export const LamportRegression = z.object({
  type: z.literal("lamport_regression"),
  storedMax: LamportTs,
});

export const RateLimited = z.object({
  type: z.literal("rate_limited"),
  retryAfterMs: z.int().nonnegative(),
});

/** `limit` and `actual` are bytes (JSON, UTF-8) or op counts, as the message says. */
export const PayloadTooLarge = z.object({
  type: z.literal("payload_too_large"),
  limit: z.int().nonnegative(),
  actual: z.int().nonnegative(),
});

/** An ack named an op the user does not have yet; `newestId` is the user's newest op (0: none). */
export const AckBeyondHead = z.object({
  type: z.literal("ack_beyond_head"),
  newestId: z.union([OpId, z.literal(0)]),
});

/** Most issues an `invalid_input` error lists; the rest are summed up in `more`. */
export const MAX_REPORTED_ISSUES = 20;

/**
 * The input breaks a rule of the protocol (a schema refused it). Retrying the same request can
 * never succeed: a device sets aside (quarantines) the ops the issues name, via their path
 * (`["ops", 3, "value"]` is the fourth op of a push), and sends the rest.
 */
export const InvalidInput = z.object({
  type: z.literal("invalid_input"),
  issues: z
    .array(
      z.object({
        path: z.array(z.union([z.string(), z.int()])),
        message: z.string(),
      }),
    )
    .max(MAX_REPORTED_ISSUES),
  /** Issues found beyond those listed. */
  more: z.int().nonnegative(),
});

/**
 * The server cannot serve the protocol version the client speaks (see `version.ts` for the
 * rule). The client must not retry: it (or, when it is newer, the server) needs an update.
 */
export const UpgradeRequired = z.object({
  type: z.literal("upgrade_required"),
  clientVersion: z.int().nonnegative(),
  minVersion: z.int().positive(),
  maxVersion: z.int().positive(),
});

/** The account revoked this device: no token of it is accepted again; bind it anew. */
export const DeviceRevoked = z.object({
  type: z.literal("device_revoked"),
});

/**
 * The account already has an encryption key (another device set it first): fetch it and open it
 * with the encryption password instead of making a new one.
 */
export const KeyExists = z.object({
  type: z.literal("key_exists"),
  epoch: z.int().positive(),
  version: z.int().positive(),
});

/**
 * The account's key changed since the caller read it (another device changed the password or
 * reset the key): fetch it again, then retry on top of `version`.
 */
export const KeyVersionConflict = z.object({
  type: z.literal("key_version_conflict"),
  epoch: z.int().positive(),
  version: z.int().positive(),
});

/** The account has no encryption key yet: set one first. */
export const KeyMissing = z.object({
  type: z.literal("key_missing"),
});

/**
 * A push carries values sealed under a key epoch that is not the account's current one (sealed
 * before a reset on another device), or plaintext in an account that has a key. Nothing of the
 * batch was stored: the device reads the key state again, asks for the password when it does
 * not hold the key of `epoch`, and pushes the same edits sealed under it.
 */
export const KeyEpochStale = z.object({
  type: z.literal("key_epoch_stale"),
  epoch: z.int().positive(),
});

export const SyncError = z.discriminatedUnion("type", [
  ResyncRequired,
  LamportRegression,
  RateLimited,
  PayloadTooLarge,
  AckBeyondHead,
  InvalidInput,
  UpgradeRequired,
  DeviceRevoked,
  KeyExists,
  KeyVersionConflict,
  KeyMissing,
  KeyEpochStale,
]);
export type SyncError = z.infer<typeof SyncError>;
export type SyncErrorType = SyncError["type"];
export type SyncErrorOf<T extends SyncErrorType> = Extract<SyncError, { type: T }>;

/**
 * The tRPC error code each sync error is thrown with: all 4xx-class, so clients (wsLink in
 * particular) do not retry them blindly as they would a 5xx.
 */
export const SYNC_ERROR_TRPC_CODE = {
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
} as const satisfies Record<SyncErrorType, string>;

/** Builds a sync error, checked against its schema. */
export function syncError<T extends SyncErrorType>(
  type: T,
  data: Omit<SyncErrorOf<T>, "type">,
): SyncErrorOf<T> {
  return SyncError.parse({ ...data, type }) as SyncErrorOf<T>;
}

/** A sentence for logs and diagnostics that says what happened and what to do. */
export function describeSyncError(error: SyncError): string {
  switch (error.type) {
    case "resync_required":
      return `history up to op ${error.compactedUpTo} was compacted; rebuild from a full pull`;
    case "lamport_regression":
      return `lamportTs must exceed this device's stored maximum ${error.storedMax}; raise the clock above it, re-stamp pending ops and retry`;
    case "rate_limited":
      return `too many requests; retry in ${error.retryAfterMs} ms`;
    case "payload_too_large":
      return `payload is ${error.actual}, over the limit of ${error.limit}; send smaller batches`;
    case "ack_beyond_head":
      return `ack is beyond the newest op (${error.newestId}); ack only ids you have received`;
    case "invalid_input": {
      const shown = error.issues
        .slice(0, 3)
        .map(
          (issue) => `${issue.path.length > 0 ? issue.path.join(".") : "input"}: ${issue.message}`,
        )
        .join("; ");
      const hidden = error.issues.length - Math.min(3, error.issues.length) + error.more;
      return `the input breaks the protocol's rules (${shown}${hidden > 0 ? `; and ${hidden} more` : ""}); resending it cannot succeed`;
    }
    case "upgrade_required":
      return error.clientVersion < error.minVersion
        ? `this client speaks protocol version ${error.clientVersion}, which the server no longer serves (it serves ${error.minVersion} to ${error.maxVersion}); update the app`
        : `this client speaks protocol version ${error.clientVersion}, newer than the server's ${error.minVersion} to ${error.maxVersion}; the server must be updated`;
    case "device_revoked":
      return "this device was revoked from its account; bind it again (sign in from the device)";
    case "key_exists":
      return `the account already has an encryption key (epoch ${error.epoch}, version ${error.version}); fetch it and open it with the encryption password`;
    case "key_version_conflict":
      return `the account's encryption key changed (now epoch ${error.epoch}, version ${error.version}); fetch it again and retry`;
    case "key_missing":
      return "the account has no encryption key yet; set one first";
    case "key_epoch_stale":
      return `the account's encryption key is now epoch ${error.epoch}: this push was sealed under another key (or not sealed) and nothing of it was stored; read the key, enter the password if needed, and push again sealed under epoch ${error.epoch}`;
  }
}

/** A schema issue as zod reports it (the fields the refusal needs). */
export interface SchemaIssue {
  readonly code?: string;
  readonly path: ReadonlyArray<PropertyKey>;
  readonly message: string;
  readonly params?: unknown;
}

/**
 * The sync error for input a schema refused: `payload_too_large` when the push as a whole is
 * over a byte limit (its issue carries `params: { limit, actual }` at `["ops"]`; splitting the
 * batch helps), otherwise `invalid_input` listing the issues (splitting does not help).
 */
export function refusalOf(issues: readonly SchemaIssue[]): SyncError {
  for (const issue of issues) {
    const params = issue.params as { limit?: unknown; actual?: unknown } | undefined;
    const atBatch = issue.path.length === 1 && issue.path[0] === "ops";
    if (atBatch && typeof params?.limit === "number" && typeof params.actual === "number") {
      return syncError("payload_too_large", { limit: params.limit, actual: params.actual });
    }
  }
  return syncError("invalid_input", {
    issues: issues.slice(0, MAX_REPORTED_ISSUES).map((issue) => ({
      path: issue.path.map((key) => (typeof key === "number" ? key : String(key))),
      message: issue.message,
    })),
    more: Math.max(0, issues.length - MAX_REPORTED_ISSUES),
  });
}

/** Indexes of the ops of a push that an `invalid_input` error names (`["ops", i, ...]`). */
export function refusedOpIndexes(error: SyncError): number[] {
  if (error.type !== "invalid_input") return [];
  const indexes = new Set<number>();
  for (const issue of error.issues) {
    const [root, index] = issue.path;
    if (root === "ops" && typeof index === "number") indexes.add(index);
  }
  return [...indexes].sort((a, b) => a - b);
}

/** The Error the server throws (as a tRPC error's cause) to carry a sync error. */
export class SyncProtocolError extends Error {
  readonly syncError: SyncError;

  constructor(error: SyncError) {
    super(describeSyncError(error));
    this.name = "SyncProtocolError";
    this.syncError = error;
  }
}

export function isSyncError(value: unknown): value is SyncError {
  return SyncError.safeParse(value).success;
}

function property(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? Reflect.get(value, key) : undefined;
}

/**
 * Reads a sync error back from whatever carries it: the object itself, a SyncProtocolError,
 * a TRPCClientError (`data.syncError`), an error shape (`shape.data.syncError`) or a
 * TRPCError whose cause is one of these. Returns null for every other error.
 */
export function parseSyncError(value: unknown): SyncError | null {
  const candidates = [
    value,
    property(value, "syncError"),
    property(property(value, "data"), "syncError"),
    property(property(property(value, "shape"), "data"), "syncError"),
    property(property(value, "cause"), "syncError"),
  ];
  for (const candidate of candidates) {
    const parsed = SyncError.safeParse(candidate);
    if (parsed.success) return parsed.data;
  }
  return null;
}
