import { DEVICE_SUMMARY_SELECT, type PrismaClient } from "@chorus/db";
import { Email, NewPassword } from "@/lib/account-schema";
import { sendPasswordResetMail, sendVerificationMail } from "./account-mail";
import { consumeEmailToken, hashEmailToken } from "./email-tokens";
import { isWeakPassword } from "./password-strength";
import { hashPassword, verifyPassword } from "./passwords";

/*
 * What an account owner does to keep the account safe: confirm the email, reset a forgotten
 * password, change it, end every web session, take their data, delete the account. Each
 * function takes the Prisma client, so tests run them against a real database.
 */

export type NewPasswordProblem = "password_too_short" | "password_too_long" | "password_weak";

/** Checks a new password: length, then guessability (also from the account's email/name). */
export function newPasswordProblem(
  password: string,
  userInputs: readonly string[],
): NewPasswordProblem | null {
  const parsed = NewPassword.safeParse(password);
  if (!parsed.success) {
    const code = parsed.error.issues[0]?.message;
    return code === "password_too_long" ? "password_too_long" : "password_too_short";
  }
  return isWeakPassword(password, userInputs) ? "password_weak" : null;
}

export type TokenProblem = "invalid" | "expired" | "used";

/** Marks the email verified by a mailed link (one-time, expiring). */
export async function verifyEmail(
  prisma: PrismaClient,
  token: string,
): Promise<{ ok: true } | { ok: false; error: TokenProblem }> {
  const used = await consumeEmailToken(prisma, "verify_email", token);
  if (!used.ok) return used;
  await prisma.user.updateMany({
    where: { id: used.userId, emailVerifiedAt: null },
    data: { emailVerifiedAt: new Date() },
  });
  return { ok: true };
}

export async function resendVerification(
  prisma: PrismaClient,
  userId: string,
  locale: string,
): Promise<boolean> {
  const user = await prisma.user.findUnique({
    where: { id: userId },
    select: { id: true, email: true, locale: true, emailVerifiedAt: true },
  });
  if (!user || user.emailVerifiedAt) return false;
  return sendVerificationMail(prisma, user, locale);
}

/**
 * Mails a reset link when the email has an account. Answers the same either way, so the form
 * cannot be used to find out who has an account.
 */
export async function requestPasswordReset(
  prisma: PrismaClient,
  email: string,
  locale: string,
): Promise<void> {
  const parsed = Email.safeParse(email);
  if (!parsed.success) return;
  const user = await prisma.user.findUnique({
    where: { email: parsed.data },
    select: { id: true, email: true, locale: true },
  });
  if (user) await sendPasswordResetMail(prisma, user, locale);
}

export type ResetResult =
  | { ok: true }
  | { ok: false; error: TokenProblem }
  | { ok: false; error: NewPasswordProblem };

/**
 * Sets a new password with a reset link. The password is checked before the link is spent, so
 * a refused password leaves the link usable. Every web session ends; the mailbox is proven, so
 * the email counts as verified.
 */
export async function resetPassword(
  prisma: PrismaClient,
  token: string,
  password: string,
): Promise<ResetResult> {
  const pending = await prisma.emailToken.findUnique({
    where: { tokenHash: hashEmailToken(token) },
    select: { user: { select: { email: true, name: true } } },
  });
  if (pending) {
    const problem = newPasswordProblem(password, [pending.user.email, pending.user.name ?? ""]);
    if (problem) return { ok: false, error: problem };
  }
  const used = await consumeEmailToken(prisma, "reset_password", token);
  if (!used.ok) return used;
  await prisma.user.update({
    where: { id: used.userId },
    data: {
      passwordHash: await hashPassword(password),
      sessionVersion: { increment: 1 },
      emailVerifiedAt: new Date(),
    },
  });
  return { ok: true };
}

export type ChangePasswordResult =
  | { ok: true }
  | { ok: false; error: "wrong_password" | NewPasswordProblem };

/** Changes the password (the current one is asked) and ends every other web session. */
export async function changePassword(
  prisma: PrismaClient,
  userId: string,
  current: string,
  next: string,
): Promise<ChangePasswordResult> {
  const user = await prisma.user.findUnique({
    where: { id: userId },
    select: { email: true, name: true, passwordHash: true },
  });
  if (!user || !(await verifyPassword(user.passwordHash, current))) {
    return { ok: false, error: "wrong_password" };
  }
  const problem = newPasswordProblem(next, [user.email, user.name ?? ""]);
  if (problem) return { ok: false, error: problem };
  await prisma.user.update({
    where: { id: userId },
    data: { passwordHash: await hashPassword(next), sessionVersion: { increment: 1 } },
  });
  return { ok: true };
}

/** Ends every web session of the account (this one too): they carry an older version now. */
export async function signOutEverywhere(prisma: PrismaClient, userId: string): Promise<void> {
  await prisma.user.update({ where: { id: userId }, data: { sessionVersion: { increment: 1 } } });
}

/**
 * Deletes the account after checking its password: its devices, refresh tokens, sync ops,
 * cursors and mailed links go with it (ON DELETE CASCADE).
 */
export async function deleteAccount(
  prisma: PrismaClient,
  userId: string,
  password: string,
): Promise<{ ok: true } | { ok: false; error: "wrong_password" }> {
  const user = await prisma.user.findUnique({
    where: { id: userId },
    select: { passwordHash: true },
  });
  if (!user || !(await verifyPassword(user.passwordHash, password))) {
    return { ok: false, error: "wrong_password" };
  }
  await prisma.user.delete({ where: { id: userId } });
  return { ok: true };
}

/** Everything the account holds, as JSON the owner can keep (no hashes, no tokens). */
export async function exportAccount(prisma: PrismaClient, userId: string) {
  const user = await prisma.user.findUnique({
    where: { id: userId },
    select: {
      id: true,
      email: true,
      name: true,
      role: true,
      locale: true,
      createdAt: true,
      emailVerifiedAt: true,
      devices: {
        select: DEVICE_SUMMARY_SELECT,
        orderBy: { boundAt: "asc" },
      },
    },
  });
  if (!user) return null;
  const ops = await prisma.syncOp.findMany({
    where: { userId },
    orderBy: { id: "asc" },
    select: {
      id: true,
      deviceId: true,
      operationId: true,
      lamportTs: true,
      entity: true,
      entityId: true,
      field: true,
      op: true,
      value: true,
      createdAt: true,
    },
  });
  return {
    exportedAt: new Date().toISOString(),
    account: user,
    ops: ops.map((op) => ({ ...op, id: Number(op.id), lamportTs: Number(op.lamportTs) })),
  };
}
