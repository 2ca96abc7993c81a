import type { PrismaClient } from "@chorus/db";
import { SyncProtocolError, syncError, WrappedAccountKey } from "@chorus/protocol";
import { z } from "zod";
import type { Services } from "../context.js";
import { lockUser } from "../sync/ops-store.js";
import { deviceProcedure } from "../trpc.js";

/*
 * The account's end-to-end encryption key, as the server keeps it: wrapped under a key derived
 * from the encryption password on a device, with its KDF parameters, a key epoch (a reset makes
 * a new master key one epoch higher) and a version that rises on every change. The server can
 * neither open it nor check it opens; it stores what a device sends and hands it to the
 * account's other devices. Device tokens only, like push: the web app never handles it.
 *
 * Setting and replacing the key take the user's lock, the one a push holds while it checks its
 * batch against the key and stores it (ADR 0026): a push is either stored before the key
 * changes or checked against the new one, never stored under the old epoch afterwards.
 */

const Version = z.int().positive();

export interface AccountKeyView {
  epoch: number;
  version: number;
  wrapped: WrappedAccountKey;
  updatedAt: string;
  setByDeviceId: string | null;
}

async function current(prisma: PrismaClient, userId: string): Promise<AccountKeyView | null> {
  const row = await prisma.accountKey.findUnique({ where: { userId } });
  if (!row) return null;
  return {
    epoch: row.epoch,
    version: row.version,
    wrapped: WrappedAccountKey.parse(row.wrapped),
    updatedAt: row.updatedAt.toISOString(),
    setByDeviceId: row.setByDeviceId,
  };
}

function refusedEpoch(wrapped: WrappedAccountKey, expected: number): SyncProtocolError {
  return new SyncProtocolError(
    syncError("invalid_input", {
      issues: [
        {
          path: ["wrapped", "epoch"],
          message: `the wrapped key is for epoch ${wrapped.epoch}; this call needs epoch ${expected}`,
        },
      ],
      more: 0,
    }),
  );
}

/** The key changed under the caller (or is gone): the typed error that says which. */
async function conflict(prisma: PrismaClient, userId: string): Promise<SyncProtocolError> {
  const now = await current(prisma, userId);
  return new SyncProtocolError(
    now
      ? syncError("key_version_conflict", { epoch: now.epoch, version: now.version })
      : syncError("key_missing", {}),
  );
}

/**
 * Replaces the account's key, only on top of `expectedVersion` and in one statement, so of two
 * devices racing only one wins: a rewrap keeps the epoch, a reset moves it up by one. A miss is
 * the typed refusal that says why (a wrong epoch, or the key changed or is gone).
 */
async function replaceKey(
  ctx: { services: Pick<Services, "prisma" | "limits">; device: { id: string; userId: string } },
  input: { expectedVersion: number; wrapped: WrappedAccountKey },
  epochStep: "same epoch" | "next epoch",
): Promise<{ key: AccountKeyView | null }> {
  const { prisma } = ctx.services;
  const userId = ctx.device.userId;
  const step = epochStep === "next epoch" ? 1 : 0;
  await ctx.services.limits.consume("push", ctx.device.id);
  const updated = await prisma.$transaction(async (tx) => {
    await lockUser(tx, userId);
    return tx.accountKey.updateMany({
      where: { userId, version: input.expectedVersion, epoch: input.wrapped.epoch - step },
      data: {
        wrapped: input.wrapped,
        epoch: input.wrapped.epoch,
        version: { increment: 1 },
        setByDeviceId: ctx.device.id,
      },
    });
  });
  if (updated.count === 0) {
    const now = await current(prisma, userId);
    if (now && now.version === input.expectedVersion) {
      throw refusedEpoch(input.wrapped, now.epoch + step);
    }
    throw await conflict(prisma, userId);
  }
  return { key: await current(prisma, userId) };
}

export const keysRouter = {
  /** The account's wrapped key, or null when no device has set one. */
  get: deviceProcedure.query(async ({ ctx }) => {
    await ctx.services.limits.consume("pull", ctx.device.id);
    return { key: await current(ctx.services.prisma, ctx.device.userId) };
  }),

  /**
   * Sets the account's first key (epoch 1). The first device wins: when a key exists the call
   * is refused with `key_exists`, and the caller opens the existing key instead.
   */
  set: deviceProcedure
    .input(z.object({ wrapped: WrappedAccountKey }))
    .mutation(async ({ ctx, input }) => {
      const { prisma } = ctx.services;
      await ctx.services.limits.consume("push", ctx.device.id);
      if (input.wrapped.epoch !== 1) throw refusedEpoch(input.wrapped, 1);
      const inserted = await prisma.$transaction(async (tx) => {
        await lockUser(tx, ctx.device.userId);
        return tx.$executeRaw`
          INSERT INTO account_keys (user_id, epoch, version, wrapped, set_by_device_id, updated_at)
          VALUES (${ctx.device.userId}::uuid, 1, 1, ${JSON.stringify(input.wrapped)}::jsonb,
                  ${ctx.device.id}::uuid, now())
          ON CONFLICT (user_id) DO NOTHING`;
      });
      const key = await current(prisma, ctx.device.userId);
      if (!key) throw new Error("account key vanished right after it was set");
      if (inserted === 0) {
        throw new SyncProtocolError(
          syncError("key_exists", { epoch: key.epoch, version: key.version }),
        );
      }
      return { key };
    }),

  /**
   * A password change: the same master key wrapped under the new password, same epoch. Applied
   * only on top of `expectedVersion`; otherwise `key_version_conflict` with the current one.
   */
  rewrap: deviceProcedure
    .input(z.object({ expectedVersion: Version, wrapped: WrappedAccountKey }))
    .mutation(({ ctx, input }) => replaceKey(ctx, input, "same epoch")),

  /**
   * A reset (the password is forgotten): a new master key, one epoch higher, replaces the old
   * one. Values sealed under older epochs no longer open on devices that only have the new key;
   * devices holding the old key see the epoch rise and ask for the new password.
   */
  reset: deviceProcedure
    .input(z.object({ expectedVersion: Version, wrapped: WrappedAccountKey }))
    .mutation(({ ctx, input }) => replaceKey(ctx, input, "next epoch")),
};
