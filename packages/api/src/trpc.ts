import {
  parseSyncError,
  SYNC_ERROR_TRPC_CODE,
  SyncProtocolError,
  syncError,
} from "@chorus/protocol";
import { initTRPC, TRPCError } from "@trpc/server";
import type { Context, Principal } from "./context.js";

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    // Typed sync errors travel as data.syncError so clients act on them without parsing text.
    return { ...shape, data: { ...shape.data, syncError: parseSyncError(error.cause) } };
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

const syncErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof SyncProtocolError) {
    throw toTRPCError(result.error.cause);
  }
  return result;
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

/** Any signed-in caller: the web app on a user's behalf, or one of the user's devices. */
export const userProcedure = publicProcedure.use(({ ctx, next }) =>
  next({ ctx: { principal: requirePrincipal(ctx) } }),
);

/**
 * A bound, non-revoked device. The device id comes from the token, never from the input,
 * so a device can only ever act as itself, for its own user.
 */
export const deviceProcedure = userProcedure.use(async ({ ctx, next }) => {
  const { principal } = ctx;
  if (principal.kind !== "device" || !principal.deviceId) {
    throw new TRPCError({ code: "FORBIDDEN", message: "this call needs a device token" });
  }
  const status = await ctx.services.devices.status(principal.deviceId);
  if (!status || status.userId !== principal.userId) {
    throw new TRPCError({
      code: "UNAUTHORIZED",
      message: "this device is not bound to the account",
    });
  }
  // Typed, so a device tells "revoked: bind again" from "token expired: refresh".
  if (status.revokedAt) throw toTRPCError(new SyncProtocolError(syncError("device_revoked", {})));
  return next({ ctx: { device: { id: principal.deviceId, userId: principal.userId } } });
});

export const adminProcedure = userProcedure.use(({ ctx, next }) => {
  if (ctx.principal.role !== "admin") {
    throw new TRPCError({ code: "FORBIDDEN", message: "administrators only" });
  }
  return next();
});
