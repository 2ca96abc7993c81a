import { randomUUID } from "node:crypto";

/**
 * Internal errors (a database that refuses or cannot be reached, a bug): the client is told that
 * something failed and under which request id; the details go to the server's log under the same
 * id. A database's own text never reaches a browser or a desktop.
 */
export function logInternalError(where: string, error: unknown): string {
  const requestId = randomUUID();
  const detail =
    error instanceof Error
      ? { name: error.name, message: error.message, stack: error.stack }
      : error;
  console.error(JSON.stringify({ level: "error", where, requestId, error: detail }));
  return requestId;
}

/** The answer to a request that failed inside: OAuth's `server_error` code and the request id. */
export function internalErrorResponse(requestId: string): Response {
  return Response.json(
    {
      error: "server_error",
      error_description: `internal error (request id ${requestId}); the details are in the server's log`,
      request_id: requestId,
    },
    { status: 500, headers: { "cache-control": "no-store", "x-request-id": requestId } },
  );
}

/** Wraps a route handler so that whatever it throws is answered as above. */
export function withInternalErrors<Args extends unknown[]>(
  where: string,
  handler: (...args: Args) => Promise<Response>,
): (...args: Args) => Promise<Response> {
  return async (...args) => {
    try {
      return await handler(...args);
    } catch (error) {
      return internalErrorResponse(logInternalError(where, error));
    }
  };
}
