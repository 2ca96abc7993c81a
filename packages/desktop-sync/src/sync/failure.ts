import { parseSyncError, type SyncError } from "@chorus/protocol";
import { TRPCClientError } from "@trpc/client";
import { BlobTransferError } from "../blobs/transfer.js";
import { EngineError } from "../errors.js";
import { HttpStatusError } from "./client.js";

/** Why a call to the sync server failed, in the terms the engine acts on. */
export type SyncFailure =
  | { kind: "sync"; error: SyncError; message: string }
  | { kind: "unauthorized"; message: string }
  /** The account revoked this device: final until the profile is bound again. */
  | { kind: "revoked"; message: string }
  /** Not reached: refused connection, reset, timeout. Retry later. */
  | { kind: "offline"; message: string }
  /** A 4xx the engine cannot fix by retrying the same request. */
  | { kind: "refused"; code: string; message: string }
  /** 5xx or anything unexpected: retry with backoff. */
  | { kind: "server"; message: string };

function errorData(error: unknown): { code?: string; httpStatus?: number } | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const data: unknown = error.data;
  return typeof data === "object" && data !== null
    ? (data as { code?: string; httpStatus?: number })
    : undefined;
}

/** The tRPC error code of an HTTP status (what a server would have said with it). */
const CODE_OF_STATUS: Record<number, string> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  408: "TIMEOUT",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  422: "UNPROCESSABLE_CONTENT",
  429: "TOO_MANY_REQUESTS",
};

/** The status of a non-JSON answer (a proxy's error page) a tRPC link wrapped. */
function plainHttpStatus(error: unknown): number | null {
  for (let cause = error, depth = 0; cause && depth < 5; depth++) {
    if (cause instanceof HttpStatusError) return cause.status;
    cause = (cause as { cause?: unknown }).cause;
  }
  return null;
}

/** The EngineError a tRPC link wrapped (a refresh that failed inside a link's headers()). */
function engineCause(error: unknown): EngineError | null {
  for (let cause = error, depth = 0; cause && depth < 5; depth++) {
    if (cause instanceof EngineError) return cause;
    cause = (cause as { cause?: unknown }).cause;
  }
  return null;
}

export function classifyFailure(error: unknown): SyncFailure {
  if (error instanceof BlobTransferError) return error.failure;
  const message = error instanceof Error ? error.message : String(error);
  const sync = parseSyncError(error);
  if (sync?.type === "device_revoked") return { kind: "revoked", message };
  if (sync) return { kind: "sync", error: sync, message };
  const engine = engineCause(error);
  if (engine?.code === "device_revoked") return { kind: "revoked", message: engine.message };
  if (engine?.code === "not_signed_in") return { kind: "unauthorized", message: engine.message };
  const data = { ...errorData(error) };
  const plain = plainHttpStatus(error);
  if (plain !== null) {
    data.httpStatus = plain;
    data.code = CODE_OF_STATUS[plain] ?? String(plain);
  }
  if (data.code === "UNAUTHORIZED") return { kind: "unauthorized", message };
  const status = data.httpStatus;
  if (status !== undefined && status >= 400 && status < 500) {
    return { kind: "refused", code: data.code ?? String(status), message };
  }
  if (status !== undefined) return { kind: "server", message };
  // No tRPC error shape: the request never got an answer (fetch failed, aborted, socket closed).
  return { kind: "offline", message: unreachable(error) };
}

/** "the sync server cannot be reached (…)", with the reason from the error's causes. */
export function unreachable(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `the sync server cannot be reached (${withCause(message, error)})`;
}

/**
 * `fetch failed` alone says nothing a person can act on; the reason sits in its causes
 * ("connect ECONNREFUSED 127.0.0.1:4000", "getaddrinfo ENOTFOUND sync.example", or "bad port"
 * for a port that fetch refuses to use at all, such as 4190 or 6000). The deepest cause's
 * message is added when it says something the outer message does not.
 */
function withCause(message: string, error: unknown): string {
  let deepest: string | null = null;
  let cause = (error as { cause?: unknown } | null)?.cause;
  for (let depth = 0; cause && depth < 5; depth++) {
    if (cause instanceof Error && cause.message) deepest = cause.message;
    cause = (cause as { cause?: unknown }).cause;
  }
  return deepest && !message.includes(deepest) ? `${message}: ${deepest}` : message;
}

/** A short stable code for diagnostics and the CLI. */
export function failureCode(failure: SyncFailure): string {
  switch (failure.kind) {
    case "sync":
      return failure.error.type;
    case "refused":
      return `refused:${failure.code}`;
    default:
      return failure.kind;
  }
}
