import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type AnyTRPCRouter,
  getTRPCErrorFromUnknown,
  getTRPCErrorShape,
  TRPCError,
} from "@trpc/server";
import { getHTTPStatusCode } from "@trpc/server/http";
import { type RequestWithBody, wantsStream } from "./http-body.js";

/** The options tRPC's HTTP handler calls a procedure with. */
interface CallOptions {
  path: string;
  getRawInput: () => Promise<unknown>;
  ctx: unknown;
  type: "mutation";
  signal: AbortSignal | undefined;
  batchIndex: number;
  input?: unknown;
}

/** What a middleware of tRPC's chain answers (`next()`'s result, or a refusal). */
interface MiddlewareResult {
  ok: boolean;
  data?: unknown;
  error?: TRPCError;
}

type Middleware = (opts: Record<string, unknown>) => Promise<MiddlewareResult>;

/** A procedure as tRPC's router holds it: callable with the options its HTTP handler passes. */
interface CallableProcedure {
  _def: {
    type: string;
    middlewares?: Middleware[];
    meta?: unknown;
    caller?: unknown;
    experimental_caller?: boolean;
  };
  (opts: CallOptions): Promise<unknown>;
}

interface NextOptions {
  ctx?: Record<string, unknown>;
  input?: unknown;
  getRawInput?: () => Promise<unknown>;
}

/**
 * tRPC's own run of a procedure's middlewares (`callRecursive` in @trpc/server 11), step for
 * step: each middleware gets the call's options with `meta`, `input` and `next`; `next` merges
 * the context and input it is given into the next step's options; a throw becomes a failed
 * result. Only the copies differ: tRPC copies the options (and the context) with its bundled
 * `_objectSpread2` helper, a property definition at a time, five or six times per call; native
 * spreads make the same objects (own enumerable keys, symbols included) for a fraction of the
 * CPU (ADR 0037).
 */
async function callChain(
  middlewares: Middleware[],
  meta: unknown,
  index: number,
  opts: CallOptions,
): Promise<MiddlewareResult> {
  try {
    const middleware = middlewares[index] as Middleware;
    return await middleware({
      ...opts,
      meta,
      input: opts.input,
      next(nextOpts?: NextOptions) {
        return callChain(middlewares, meta, index + 1, {
          ...opts,
          ctx: nextOpts?.ctx ? { ...(opts.ctx as object), ...nextOpts.ctx } : opts.ctx,
          input: nextOpts && "input" in nextOpts ? nextOpts.input : opts.input,
          getRawInput: nextOpts?.getRawInput ?? opts.getRawInput,
        });
      },
    });
  } catch (cause) {
    return { ok: false, error: getTRPCErrorFromUnknown(cause) };
  }
}

/** Runs the procedure as tRPC's `procedure(opts)` does, its middlewares through callChain. */
async function callProcedure(procedure: CallableProcedure, opts: CallOptions): Promise<unknown> {
  const { middlewares, meta, caller, experimental_caller } = procedure._def;
  // A procedure with a caller of its own (not used here) is called as tRPC would.
  if (!Array.isArray(middlewares) || caller || experimental_caller) return procedure(opts);
  const result = await callChain(middlewares, meta, 0, opts);
  if (!result) {
    throw new TRPCError({
      code: "INTERNAL_SERVER_ERROR",
      message: "No result from middlewares - did you forget to `return next()`?",
    });
  }
  if (!result.ok) throw result.error;
  return result.data;
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
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

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
 * JSON body, no streamed answer asked for — is run here with tRPC's own pieces: the procedure
 * itself (every middleware and input parser, as over tRPC's handler, run by callChain),
 * `getTRPCErrorFromUnknown`, `getErrorShape` (our errorFormatter), the router's output
 * transformer as `transformTRPCResponse` applies it, and `getHTTPStatusCode`, and answered with
 * the same status, headers and JSON body.
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
      const data = await callProcedure(procedure, {
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
    // transformTRPCResponse's item, made without its spread helper: the same keys in the same
    // order, the data or error passed through the router's output transformer.
    const serialize = config.transformer.output.serialize;
    const json = JSON.stringify(
      "error" in body
        ? { error: serialize(body.error) }
        : { result: { data: serialize(body.result.data) } },
    );
    // As tRPC's writeResponse: its status unless one was set, its headers set over any there;
    // then, as sendInOneWrite did, the body in one write with its content-length.
    const code = res.statusCode === 200 ? status : res.statusCode;
    const extra = errors.length > 0 ? options.headersFor(errors) : NO_HEADERS;
    if (res.getHeaderNames().length === 0) {
      // Nothing set before (no CORS headers): the same header lines in the same order, given to
      // writeHead as one array, and the body as a string that Node writes with the header
      // block in one write (ADR 0039).
      const headers: (string | number)[] = [
        "vary",
        "trpc-accept, accept",
        "content-type",
        "application/json",
      ];
      for (const name in extra) headers.push(name, extra[name] as string);
      headers.push("content-length", Buffer.byteLength(json));
      res.writeHead(code, headers as unknown as string[]);
      res.end(json);
      return;
    }
    res.statusCode = code;
    res.setHeader("vary", "trpc-accept, accept");
    res.setHeader("content-type", "application/json");
    for (const name in extra) res.setHeader(name, extra[name] as string);
    const bytes = Buffer.from(json);
    res.setHeader("content-length", bytes.byteLength);
    res.end(bytes);
  }

  return { match, answer };
}
