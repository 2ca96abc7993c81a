import { open } from "node:fs/promises";
import { PROTOCOL_VERSION, PROTOCOL_VERSION_HEADER } from "@chorus/protocol";
import { type SyncFailure, unreachable } from "../sync/failure.js";
import type { SyncSession } from "../sync/session.js";

/*
 * The sync server's blob endpoints (docs/design.md#attachments-blobs), as the engine calls
 * them: a device token like push, JSON answers, refusals `{ error: { code, message, … } }`.
 * Every failure is a BlobTransferError carrying the SyncFailure the engine's one call policy
 * (sync/call-server.ts) judges: a 401 refreshes the token once, no answer or a 5xx backs off,
 * `rate_limited` waits what the server asked, a size or quota refusal is final.
 */

/** The most one upload request carries (the server may allow less: it says so, and we adapt). */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;

export class BlobTransferError extends Error {
  override name = "BlobTransferError";
  constructor(
    readonly failure: SyncFailure,
    /** The server's code (`quota_exceeded`, …), or `offline` / `http_<status>`. */
    readonly code: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(failure.message);
  }
}

export interface TransferDeps {
  session: SyncSession;
  fetch: typeof fetch;
  /** Longest wait for one request. */
  timeoutMs: number;
}

interface UploadStatus {
  state: "uploading" | "stored";
  size: number;
  received: number;
}

async function request(
  deps: TransferDeps,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: Uint8Array<ArrayBuffer> } = {},
): Promise<Response> {
  const token = await deps.session.accessToken();
  let response: Response;
  try {
    response = await deps.fetch(`${deps.session.syncUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        [PROTOCOL_VERSION_HEADER]: String(PROTOCOL_VERSION),
        ...init.headers,
      },
      ...(init.body ? { body: init.body } : {}),
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
  } catch (error) {
    throw new BlobTransferError({ kind: "offline", message: unreachable(error) }, "offline");
  }
  if (response.ok) return response;
  throw await refusal(response);
}

/** The failure an error answer means. */
async function refusal(response: Response): Promise<BlobTransferError> {
  let code = `http_${response.status}`;
  let message = `the sync server answered ${response.status}`;
  let details: Record<string, unknown> = {};
  try {
    const body = (await response.json()) as { error?: Record<string, unknown> };
    if (body.error && typeof body.error.code === "string") {
      const { code: c, message: m, ...rest } = body.error;
      code = c as string;
      if (typeof m === "string") message = m;
      details = rest;
    }
  } catch {
    // not JSON: the status is all there is
  }
  const status = response.status;
  let failure: SyncFailure;
  if (code === "device_revoked") failure = { kind: "revoked", message };
  else if (status === 401) failure = { kind: "unauthorized", message };
  else if (status === 429) {
    const retryAfterMs =
      typeof details.retryAfterMs === "number"
        ? details.retryAfterMs
        : Number(response.headers.get("retry-after") ?? "1") * 1000;
    failure = { kind: "sync", error: { type: "rate_limited", retryAfterMs }, message };
  } else if (status >= 400 && status < 500) failure = { kind: "refused", code, message };
  else failure = { kind: "server", message };
  return new BlobTransferError(failure, code, details);
}

/**
 * Uploads the file at `path` (`size` bytes) as blob `sha256`, resuming where the server's
 * copy ends: it asks how much the server holds, sends the rest in chunks at the offsets the
 * server reports, then confirms (the server checks the hash). A blob the server already holds
 * for this account is confirmed again, which restarts its garbage-collection grace period.
 */
export async function uploadBlob(
  deps: TransferDeps,
  blob: { sha256: string; path: string; size: number },
): Promise<void> {
  const { sha256, size } = blob;
  let received = 0;
  try {
    const status = (await (
      await request(deps, "GET", `/blobs/${sha256}/upload`)
    ).json()) as UploadStatus;
    received = status.state === "stored" ? size : status.received;
  } catch (error) {
    if (!(error instanceof BlobTransferError && error.code === "not_found")) throw error;
  }
  let chunkBytes = UPLOAD_CHUNK_BYTES;
  const file = await open(blob.path, "r");
  try {
    while (received < size) {
      const length = Math.min(chunkBytes, size - received);
      const chunk = Buffer.alloc(length);
      const { bytesRead } = await file.read(chunk, 0, length, received);
      if (bytesRead !== length) {
        throw new BlobTransferError(
          {
            kind: "refused",
            code: "local_file_changed",
            message: "the blob's file changed on disk",
          },
          "local_file_changed",
        );
      }
      try {
        const answer = (await (
          await request(deps, "PUT", `/blobs/${sha256}`, {
            headers: {
              "content-type": "application/octet-stream",
              "x-blob-size": String(size),
              "x-blob-offset": String(received),
            },
            body: chunk,
          })
        ).json()) as UploadStatus;
        if (answer.state === "stored") break;
        received = answer.received;
      } catch (error) {
        if (!(error instanceof BlobTransferError)) throw error;
        // The server holds another amount (an earlier answer was lost): continue from there.
        if (error.code === "offset_mismatch" && typeof error.details.received === "number") {
          received = error.details.received;
          continue;
        }
        // This server takes smaller chunks: send what it allows.
        if (
          error.code === "chunk_too_large" &&
          typeof error.details.limit === "number" &&
          error.details.limit > 0 &&
          error.details.limit < length
        ) {
          chunkBytes = error.details.limit;
          continue;
        }
        throw error;
      }
    }
  } finally {
    await file.close();
  }
  await request(deps, "POST", `/blobs/${sha256}/confirm`);
}

/** The bytes of blob `sha256` as the server holds them (a stream), or a BlobTransferError. */
export async function downloadBlob(
  deps: TransferDeps,
  sha256: string,
): Promise<ReadableStream<Uint8Array>> {
  const response = await request(deps, "GET", `/blobs/${sha256}`);
  if (!response.body) {
    throw new BlobTransferError(
      { kind: "server", message: "the sync server sent a blob without a body" },
      "http_200",
    );
  }
  return response.body;
}
