import { parseSyncError, type SyncError } from "@chorus/protocol";
import { TRPCClientError } from "@trpc/client";

/** Why a call to the sync server failed, in the terms the engine acts on. */
export type SyncFailure =
  | { kind: "sync"; error: SyncError; message: string }
  | { kind: "unauthorized"; message: string }
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

export function classifyFailure(error: unknown): SyncFailure {
  const message = error instanceof Error ? error.message : String(error);
  const sync = parseSyncError(error);
  if (sync) return { kind: "sync", error: sync, message };
  const data = errorData(error);
  if (data?.code === "UNAUTHORIZED") return { kind: "unauthorized", message };
  const status = data?.httpStatus;
  if (status !== undefined && status >= 400 && status < 500) {
    return { kind: "refused", code: data?.code ?? String(status), message };
  }
  if (status !== undefined) return { kind: "server", message };
  // No tRPC error shape: the request never got an answer (fetch failed, aborted, socket closed).
  return { kind: "offline", message: `the sync server cannot be reached (${message})` };
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
