import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type AnyTRPCRouter,
  getTRPCErrorFromUnknown,
  getTRPCErrorShape,
  type TRPCError,
  transformTRPCResponse,
} from "@trpc/server";
import { getHTTPStatusCode } from "@trpc/server/http";
import { type RequestWithBody, wantsStream } from "./http-body.js";

/** A procedure as tRPC's router holds it: callable with the options its HTTP handler passes. */
interface CallableProcedure {
  _def: { type: string };
  (opts: {
    path: string;
    getRawInput: () => Promise<unknown>;
    ctx: unknown;
    type: "mutation";
    signal: AbortSignal | undefined;
    batchIndex: number;
  }): Promise<unknown>;
}

export interface SingleCallOptions<TContext> {
  router: AnyTRPCRouter;
  /** tRPC's base path, e.g. "/trpc/". */
  basePath: string;
  createContext(req: IncomingMessage): Promise<TContext>;
  /** Called for every error, as tRPC's own `onError` is. */
  onError(opts: { error: TRPCError; path: string; type: "mutation"; input: unknown }): void;
  /** Extra headers of the answer (tRPC's `responseMeta`, for the errors it carries). */
  headersFor(errors: TRPCError[]): Record<string, string>;
}

const PROCEDURE_PATH = /^[A-Za-z0-9_.]+$/;

function isJson(req: IncomingMessage): boolean {
  const type = req.headers["content-type"];
  return type?.toLowerCase().split(";", 1)[0]?.trim() === "application/json";
}

/** A request found to be a single mutation, and the procedure it names. */
export interface SingleCall {
  path: string;
  procedure: CallableProcedure;
}

/**
 * A single (not batched) tRPC mutation over HTTP, answered without tRPC's fetch-API round trip.
 *
 * tRPC's node adapter turns every request into a fetch `Request` (headers copied into a
 * `Headers`, an AbortController, a body stream) and its answer into a `Response` that it then
 * reads back and writes out. For a push that machinery, with the garbage it leaves, was about a
 * third of the sync server's JavaScript time per push (ADR 0030). A call that needs none of it
 * — POST, one mutation named in the path, no query string (no batch, no connectionParams), a
 * JSON body, no streamed answer asked for — is run here with tRPC's own
 * pieces: the procedure itself (every middleware and input parser, as over tRPC's handler),
 * `getTRPCErrorFromUnknown`, `getErrorShape` (our errorFormatter), `transformTRPCResponse` and
 * `getHTTPStatusCode`, and answered with the same status, headers and JSON body.
 * test/single-call.pg.test.ts sends the same calls through both and compares the answers.
 *
 * The server matches the request first (`match`), reads its body as for any call, then has it
 * answered (`answer`); a request that does not match, or whose body does not parse, goes to
 * tRPC's handler, which then finds its body already read.
 */
export function createSingleCallHandler<TContext>(options: SingleCallOptions<TContext>) {
  const { router, basePath } = options;
  const config = router._def._config;
  const procedures = router._def.procedures as Record<string, CallableProcedure | undefined>;

  /** The mutation a request names when it is such a call (known before its body is read). */
  function match(req: IncomingMessage): SingleCall | null {
    const url = req.url ?? "";
    if (req.method !== "POST" || !url.startsWith(basePath) || url.includes("?")) return null;
    const path = url.slice(basePath.length);
    if (!PROCEDURE_PATH.test(path) || !Object.hasOwn(procedures, path)) return null;
    const procedure = procedures[path];
    if (procedure?._def.type !== "mutation") return null;
    if (wantsStream(req) || !isJson(req)) return null;
    return { path, procedure };
  }

  /** Answers the call once its body is read; null when the body is not JSON (tRPC answers). */
  function answer(
    req: RequestWithBody,
    res: ServerResponse,
    call: SingleCall,
  ): Promise<void> | null {
    if (typeof req.body !== "string" || req.body.length === 0) return null;
    let raw: unknown;
    try {
      raw = JSON.parse(req.body);
    } catch {
      return null; // tRPC's handler answers a body that is not JSON its own way.
    }
    const input = config.transformer.input.deserialize(raw);
    return run(req, res, call.procedure, call.path, input);
  }

  async function run(
    req: RequestWithBody,
    res: ServerResponse,
    procedure: CallableProcedure,
    path: string,
    input: unknown,
  ): Promise<void> {
    let ctx: TContext | undefined;
    let body: { result: { data: unknown } } | { error: unknown };
    const errors: TRPCError[] = [];
    try {
      ctx = await options.createContext(req);
      const data = await procedure({
        path,
        getRawInput: async () => input,
        ctx,
        type: "mutation",
        signal: undefined,
        batchIndex: 0,
      });
      body = { result: { data } };
    } catch (cause) {
      const error = getTRPCErrorFromUnknown(cause);
      errors.push(error);
      options.onError({ error, path, type: "mutation", input });
      body = {
        error: getTRPCErrorShape({ config, ctx, error, input, path, type: "mutation" }),
      };
    }
    const status = getHTTPStatusCode(body as Parameters<typeof getHTTPStatusCode>[0]);
    const json = JSON.stringify(
      transformTRPCResponse(config, body as Parameters<typeof transformTRPCResponse>[1]),
    );
    // As tRPC's writeResponse: its status unless one was set, its headers set over any there.
    if (res.statusCode === 200) res.statusCode = status;
    res.setHeader("vary", "trpc-accept, accept");
    res.setHeader("content-type", "application/json");
    for (const [name, value] of Object.entries(options.headersFor(errors))) {
      res.setHeader(name, value);
    }
    res.end(json);
  }

  return { match, answer };
}
