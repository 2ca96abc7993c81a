import type { IncomingMessage, ServerResponse } from "node:http";
import { SyncProtocolError, syncError } from "@chorus/protocol";
import { TRPCError } from "@trpc/server";

/**
 * The HTTP edges of a tRPC call, made cheap. tRPC's node adapter turns the request into a fetch
 * Request whose body streams from the IncomingMessage, and streams the answer back chunk by
 * chunk (chunked encoding: the body, then a separate final write). For the small JSON calls
 * this server answers (push, pull, ack, the console's queries) that machinery was a visible
 * part of a push's CPU. So, as tRPC's adapter allows (a string `req.body` is taken as the body):
 * - the body is read here, up to `limit` bytes, into a string;
 * - a plain JSON answer is sent in one write with a content-length.
 * A streamed answer (httpBatchStreamLink's `trpc-accept`, or server-sent events) is left alone.
 * The first is tRPC's documented way to hand it a body; the second relies on how its adapter
 * writes, which test/http-body.test.ts pins so that a tRPC upgrade that changes it fails there.
 */
export type RequestWithBody = IncomingMessage & {
  body?: string;
  /** Why reading the body failed, when the server read it before tRPC's handler ran. */
  bodyError?: unknown;
};

export function readBody(req: RequestWithBody, limit: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(tooLarge(limit, declared));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume();
        reject(tooLarge(limit, size));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      req.body =
        chunks.length === 1 ? (chunks[0] as Buffer).toString() : Buffer.concat(chunks).toString();
      resolve();
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

/** Typed like every other size refusal (`payload_too_large`), so a device splits its batch. */
function tooLarge(limit: number, actual: number): TRPCError {
  return new TRPCError({
    code: "PAYLOAD_TOO_LARGE",
    message: `the request body is over ${limit} bytes`,
    cause: new SyncProtocolError(syncError("payload_too_large", { limit, actual })),
  });
}

/** Whether the caller asked for a streamed answer. */
export function wantsStream(req: IncomingMessage): boolean {
  return (
    req.headers["trpc-accept"] !== undefined ||
    (req.headers.accept ?? "").includes("text/event-stream")
  );
}

/**
 * Holds what is written to `res` until `end`, then sends it in one write with a
 * content-length. Only for answers that are not streamed (see wantsStream).
 */
export function sendInOneWrite(res: ServerResponse): void {
  const chunks: Buffer[] = [];
  const end = res.end.bind(res);
  res.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    chunks.push(
      typeof chunk === "string"
        ? Buffer.from(chunk)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
    );
    const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
    if (callback) process.nextTick(callback);
    return true;
  }) as ServerResponse["write"];
  res.end = ((...args: unknown[]) => {
    const callback = args.find((arg) => typeof arg === "function") as (() => void) | undefined;
    const last = args[0];
    if (typeof last === "string" || last instanceof Uint8Array) {
      chunks.push(typeof last === "string" ? Buffer.from(last) : Buffer.from(last));
    }
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    if (!res.headersSent) res.setHeader("content-length", body.byteLength);
    return callback ? end(body, callback) : end(body);
  }) as ServerResponse["end"];
}
