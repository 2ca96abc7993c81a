import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { BlobError, type BlobService, type Principal, type Services } from "@chorus/api";
import { parseSyncError } from "@chorus/protocol";

/*
 * The blob endpoints (docs/design.md#attachments-blobs), authenticated like push: a device
 * token of a bound, non-revoked device. Every answer but a download is JSON; a refusal is
 * `{ "error": { "code", "message", ...numbers } }` with a 4xx status.
 *
 *   PUT  /blobs/<sha256>          one chunk: headers x-blob-size (whole blob) and x-blob-offset
 *   GET  /blobs/<sha256>/upload   how much the server holds ({ state, size, received })
 *   POST /blobs/<sha256>/confirm  hash check, then the blob is stored
 *   GET  /blobs/<sha256>          the bytes (only of a blob this account confirmed)
 */

const ROUTE = /^\/blobs\/([0-9a-f]{64})(\/upload|\/confirm)?$/;

type Authenticate = (token: string) => Promise<Principal>;

function sendJson(res: ServerResponse, status: number, body: unknown, close = false): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
      ...(close ? { connection: "close" } : {}),
    })
    .end(text);
}

function refuse(res: ServerResponse, status: number, code: string, message: string, close = false) {
  sendJson(res, status, { error: { code, message } }, close);
}

function wholeNumber(value: string | string[] | undefined): number | null {
  if (typeof value !== "string" || !/^\d{1,15}$/.test(value)) return null;
  return Number(value);
}

export function isBlobPath(path: string): boolean {
  return path === "/blobs" || path.startsWith("/blobs/");
}

export function createBlobHandler(deps: {
  blobs: BlobService | null;
  services: Services;
  authenticate: Authenticate;
}) {
  const { blobs, services } = deps;

  /** The calling device, as push knows it; null after answering a refusal. */
  async function device(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{ userId: string; deviceId: string } | null> {
    const header = req.headers.authorization;
    if (!header?.startsWith("Bearer ")) {
      refuse(res, 401, "unauthorized", "sign in first: blobs need a device token", true);
      return null;
    }
    let principal: Principal;
    try {
      principal = await deps.authenticate(header.slice(7));
    } catch (error) {
      refuse(res, 401, "unauthorized", `token refused: ${(error as Error).message}`, true);
      return null;
    }
    if (principal.kind !== "device") {
      refuse(res, 403, "forbidden", "blobs need a device token", true);
      return null;
    }
    const status = await services.devices.status(principal.deviceId);
    if (!status || status.userId !== principal.userId) {
      refuse(res, 401, "unauthorized", "this device is not bound to the account", true);
      return null;
    }
    if (status.revokedAt) {
      refuse(res, 401, "device_revoked", "this device was revoked from its account", true);
      return null;
    }
    return { userId: principal.userId, deviceId: principal.deviceId };
  }

  async function limited(
    res: ServerResponse,
    action: "push" | "pull",
    deviceId: string,
  ): Promise<boolean> {
    try {
      await services.limits.consume(action, deviceId);
      return false;
    } catch (error) {
      const typed = parseSyncError(error);
      if (typed?.type !== "rate_limited") throw error;
      res.setHeader("retry-after", String(Math.ceil(typed.retryAfterMs / 1000)));
      sendJson(
        res,
        429,
        {
          error: {
            code: "rate_limited",
            message: "too many requests",
            retryAfterMs: typed.retryAfterMs,
          },
        },
        true,
      );
      return true;
    }
  }

  return async function handleBlobs(req: IncomingMessage, res: ServerResponse, path: string) {
    const match = ROUTE.exec(path);
    if (!match) {
      req.resume();
      return refuse(
        res,
        404,
        "not_found",
        "no such blob endpoint; blobs are named by lower-case hex SHA-256",
      );
    }
    if (!blobs) {
      req.resume();
      return refuse(res, 404, "not_found", "blobs are not enabled on this server");
    }
    const sha256 = match[1] as string;
    const action = match[2] ?? "";
    const caller = await device(req, res);
    if (!caller) return void req.resume();
    try {
      if (req.method === "PUT" && action === "") {
        if (await limited(res, "push", caller.deviceId)) return void req.resume();
        const size = wholeNumber(req.headers["x-blob-size"]);
        const offset = wholeNumber(req.headers["x-blob-offset"]);
        if (size === null || offset === null || offset > size) {
          req.resume();
          return refuse(
            res,
            400,
            "invalid_request",
            "a chunk needs x-blob-size (the whole blob's bytes) and x-blob-offset (where the chunk starts, at most the size)",
            true,
          );
        }
        const declared = wholeNumber(req.headers["content-length"]);
        services.lastSeen.touch(caller.deviceId);
        const status = await blobs.writeChunk({
          userId: caller.userId,
          deviceId: caller.deviceId,
          sha256,
          size,
          offset,
          body: req,
          declaredLength: declared,
        });
        if (status.state === "stored") req.resume();
        return sendJson(res, 200, status);
      }
      req.resume();
      if (req.method === "GET" && action === "/upload") {
        if (await limited(res, "pull", caller.deviceId)) return;
        const status = await blobs.status(caller.userId, sha256);
        if (!status) return refuse(res, 404, "not_found", "no upload of this blob");
        return sendJson(res, 200, status);
      }
      if (req.method === "POST" && action === "/confirm") {
        if (await limited(res, "push", caller.deviceId)) return;
        return sendJson(res, 200, await blobs.confirm(caller.userId, sha256));
      }
      if (req.method === "GET" && action === "") {
        if (await limited(res, "pull", caller.deviceId)) return;
        const blob = await blobs.open(caller.userId, sha256);
        if (!blob) return refuse(res, 404, "not_found", "no such blob in this account");
        res.writeHead(200, {
          "content-type": "application/octet-stream",
          "content-length": blob.size,
          etag: `"${sha256}"`,
          "cache-control": "private, max-age=31536000, immutable",
        });
        await pipeline(blob.stream, res);
        return;
      }
      return refuse(res, 405, "method_not_allowed", `${req.method} is not served on ${path}`);
    } catch (error) {
      if (error instanceof BlobError) {
        // The rest of the chunk is read and dropped, and the connection stays open: closing it
        // while the client still sends its chunk resets the connection, and the client may see
        // the reset ("fetch failed", taken as offline) before the answer, so that a file too
        // large for the account would wait to upload forever instead of being refused.
        req.resume();
        return sendJson(res, error.status, error.toJSON());
      }
      throw error;
    }
  };
}
