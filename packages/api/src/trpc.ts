import { randomUUID } from "node:crypto";
import {
  parseSyncError,
  protocolVersionRefusal,
  refusalOf,
  type SchemaIssue,
  SYNC_ERROR_TRPC_CODE,
  SyncProtocolError,
  syncError,
} from "@chorus/protocol";
import { initTRPC, TRPCError } from "@trpc/server";
import type { Context, Principal } from "./context.js";
import type { DeviceStatus } from "./devices/status-cache.js";

const internalErrorIds = new WeakMap<TRPCError, string>();

/**
 * The id an internal error is reported under: the client gets it (in the message, in
 * `data.requestId` and, over HTTP, in `x-request-id`), the server's log gets it beside the
 * error's details. The details themselves (a database's text, a stack) never reach the client.
 */
export function internalErrorId(error: TRPCError): string {
  let id = internalErrorIds.get(error);
  if (!id) {
    id = randomUUID();
    internalErrorIds.set(error, id);
  }
  return id;
}

const t = initTRPC.context<Context>().create({
  // Subscriptions run over the WebSocket only, where a socket closes when its token expires or
  // its device is revoked and is dropped when it reads too slowly; over HTTP (server-sent events)
  // none of that would hold. The sync server also refuses them before tRPC runs anything.
  sse: { enabled: false },
  errorFormatter({ shape, error }) {
    // No stack on the wire, whatever the environment.
    const { stack: _stack, ...data } = shape.data;
    // Typed sync errors travel as data.syncError so clients act on them without parsing text.
    const typed = { ...data, syncError: parseSyncError(error.cause), requestId: null };
    if (error.code !== "INTERNAL_SERVER_ERROR") return { ...shape, data: typed };
    const requestId = internalErrorId(error);
    return {
      ...shape,
      message: `internal error (request id ${requestId}); the details are in the server's log`,
      data: { ...typed, requestId: requestId as string | null },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Converts a domain SyncProtocolError into the tRPC error (and 4xx code) it is sent as. */
export function toTRPCError(error: unknown): unknown {
  if (error instanceof SyncProtocolError) {
    return new TRPCError({
      code: SYNC_ERROR_TRPC_CODE[error.syncError.type],
      message: error.message,
      cause: error,
    });
  }
  return error;
}

function schemaIssues(cause: unknown): SchemaIssue[] | null {
  const issues = (cause as { issues?: unknown } | null)?.issues;
  return Array.isArray(issues) ? (issues as SchemaIssue[]) : null;
}

/**
 * Input a schema refused, as the typed sync error a client acts on: `payload_too_large` for a
 * push over a batch limit (bytes, or ops: split the batch), `invalid_input` naming the refused
 * fields otherwise (resending cannot help: a device quarantines the ops named).
 */
function inputRefusal(issues: SchemaIssue[], rawInput: unknown): SyncProtocolError {
  const opCount = (rawInput as { ops?: unknown } | null)?.ops;
  for (const issue of issues) {
    const maximum = (issue as { maximum?: unknown }).maximum;
    const atBatch = issue.path.length === 1 && issue.path[0] === "ops";
    if (issue.code === "too_big" && atBatch && Array.isArray(opCount)) {
      return new SyncProtocolError(
        syncError("payload_too_large", { limit: Number(maximum), actual: opCount.length }),
      );
    }
  }
  return new SyncProtocolError(refusalOf(issues));
}

/** Refuses a client whose protocol version this server does not serve. */
function refuseOutdated(ctx: Context): void {
  const outdated = protocolVersionRefusal(ctx.protocolVersion);
  if (outdated) throw toTRPCError(new SyncProtocolError(outdated));
}

/**
 * What a procedure answered, with domain errors (SyncProtocolError) and refused input turned
 * into typed tRPC errors.
 */
async function typedErrors<R extends { ok: boolean }>(
  result: R,
  getRawInput: () => Promise<unknown>,
): Promise<R> {
  if (result.ok) return result;
  const { error } = result as unknown as { error: TRPCError };
  if (error.cause instanceof SyncProtocolError) throw toTRPCError(error.cause);
  const issues = error.code === "BAD_REQUEST" ? schemaIssues(error.cause) : null;
  if (issues) throw toTRPCError(inputRefusal(issues, await getRawInput().catch(() => null)));
  return result;
}

/**
 * Every procedure: refuses a client whose protocol version this server does not serve, and
 * turns domain errors (SyncProtocolError) and refused input into typed tRPC errors.
 */
const syncErrors = t.middleware(async ({ ctx, next, getRawInput }) => {
  refuseOutdated(ctx);
  return typedErrors(await next(), getRawInput);
});

export const publicProcedure = t.procedure.use(syncErrors);

function requirePrincipal(ctx: Context): Principal {
  if (!ctx.principal) {
    throw new TRPCError({
      code: "UNAUTHORIZED",
      message: ctx.authError ?? "sign in first: this call needs a bearer token",
    });
  }
  return ctx.principal;
}

/**
 * A device must still be bound to its user and not revoked: its access token outlives a
 * revocation by up to its lifetime, and must not keep reaching the account's procedures.
 */
async function requireBoundDevice(
  ctx: Context,
  principal: Extract<Principal, { kind: "device" }>,
): Promise<void> {
  checkBoundDevice(await ctx.services.devices.status(principal.deviceId), principal);
}

/**
 * requireBoundDevice without a promise when the device's status is cached (nearly every call of
 * a device that keeps calling); a promise only when it must be looked up (ADR 0039).
 */
function requireBoundDeviceNow(
  ctx: Context,
  principal: Extract<Principal, { kind: "device" }>,
): Promise<void> | undefined {
  const cached = ctx.services.devices.cached(principal.deviceId);
  if (cached === undefined) return requireBoundDevice(ctx, principal);
  checkBoundDevice(cached, principal);
  return undefined;
}

function checkBoundDevice(
  status: DeviceStatus | null,
  principal: Extract<Principal, { kind: "device" }>,
): void {
  if (!status || status.userId !== principal.userId) {
    throw new TRPCError({
      code: "UNAUTHORIZED",
      message: "this device is not bound to the account",
    });
  }
  // Typed, so a device tells "revoked: bind again" from "token expired: refresh".
  if (status.revokedAt) {
    throw toTRPCError(new SyncProtocolError(syncError("device_revoked", {})));
  }
}

/**
 * Any signed-in caller: the web app on a user's behalf, or one of the user's devices. A device
 * must still be bound and not revoked (requireBoundDevice).
 */
export const userProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const principal = requirePrincipal(ctx);
  if (principal.kind === "device") await requireBoundDevice(ctx, principal);
  return next({ ctx: { principal } });
});

/**
 * A bound, non-revoked device. The device id comes from the token, never from the input, so a
 * device can only ever act as itself, for its own user.
 *
 * One middleware does what publicProcedure's, userProcedure's and the device check's would do
 * in a chain, in the same order (protocol version, token, bound and not revoked, a device's
 * token) and with the same refusals: every sync call goes through here, and each middleware
 * of a chain costs a context copy and a few promises per call (ADR 0035).
 */
export const deviceProcedure = t.procedure.use(async ({ ctx, next, getRawInput }) => {
  refuseOutdated(ctx);
  const principal = requirePrincipal(ctx);
  if (principal.kind === "device") {
    const looking = requireBoundDeviceNow(ctx, principal);
    if (looking) await looking;
  }
  if (principal.kind !== "device") {
    throw new TRPCError({ code: "FORBIDDEN", message: "this call needs a device token" });
  }
  const device = { id: principal.deviceId, userId: principal.userId };
  return typedErrors(await next({ ctx: { principal, device } }), getRawInput);
});

/** An administrator signed in on the web. A device token never reaches these, whoever owns it. */
export const adminProcedure = userProcedure.use(({ ctx, next }) => {
  if (ctx.principal.kind !== "web" || ctx.principal.role !== "admin") {
    throw new TRPCError({ code: "FORBIDDEN", message: "administrators only" });
  }
  return next();
});
