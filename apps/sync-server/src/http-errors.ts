import type { ServerResponse } from "node:http";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { type TRPC_ERROR_CODE_KEY, TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";

/**
 * Answers a request with a tRPC error envelope ({ error: { message, code, data } }) before tRPC
 * itself sees it, so a client reads it exactly as it reads any other refusal: the typed code in
 * `data.code`, the HTTP status in `data.httpStatus`.
 */
export function sendTRPCError(
  res: ServerResponse,
  error: { code: TRPC_ERROR_CODE_KEY; message: string; path?: string },
): void {
  const httpStatus = getHTTPStatusCodeFromError(new TRPCError({ code: error.code }));
  const body = JSON.stringify({
    error: {
      message: error.message,
      code: TRPC_ERROR_CODES_BY_KEY[error.code],
      data: {
        code: error.code,
        httpStatus,
        ...(error.path ? { path: error.path } : {}),
        syncError: null,
      },
    },
  });
  res
    .writeHead(httpStatus, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    })
    .end(body);
}
