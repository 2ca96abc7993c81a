"use server";

import { isLocale } from "@chorus/i18n";
import { headers } from "next/headers";
import {
  changePassword,
  deleteAccount,
  requestPasswordReset,
  resendVerification,
  resetPassword,
  signOutEverywhere,
} from "@/server/account-security";
import { clientIp } from "@/server/client-ip";
import { prisma } from "@/server/db";
import { getSession } from "@/server/session";
import { authThrottle } from "@/server/throttle";

/*
 * The account's security actions. Server actions only accept same-origin POSTs; each one that
 * acts on the account reads the signed-in user from the session, never from the input.
 */

export type ActionResult = { ok: true } | { ok: false; error: string };

const signedOut: ActionResult = { ok: false, error: "signed_out" };

export async function resendVerificationAction(locale: string): Promise<ActionResult> {
  const session = await getSession();
  if (!session) return signedOut;
  return (await resendVerification(prisma(), session.user.id, locale))
    ? { ok: true }
    : { ok: false, error: "unknown" };
}

export async function changePasswordAction(current: string, next: string): Promise<ActionResult> {
  const session = await getSession();
  if (!session) return signedOut;
  return changePassword(prisma(), session.user.id, current, next);
}

export async function signOutEverywhereAction(): Promise<ActionResult> {
  const session = await getSession();
  if (!session) return signedOut;
  await signOutEverywhere(prisma(), session.user.id);
  return { ok: true };
}

export async function deleteAccountAction(password: string): Promise<ActionResult> {
  const session = await getSession();
  if (!session) return signedOut;
  return deleteAccount(prisma(), session.user.id, password);
}

/** Same answer whether or not the email has an account; counted per address like sign-up. */
export async function requestPasswordResetAction(
  email: string,
  locale: string,
): Promise<ActionResult> {
  const throttled = await authThrottle().signUpAttempt(clientIp(await headers()));
  if (throttled) return { ok: false, error: `throttled:${throttled.retryAfterSeconds}` };
  await requestPasswordReset(prisma(), email, locale);
  return { ok: true };
}

export async function resetPasswordAction(token: string, password: string): Promise<ActionResult> {
  return resetPassword(prisma(), token, password);
}

/** The language chosen in the switcher, saved with the account (signed in only). */
export async function saveLocaleAction(locale: string): Promise<ActionResult> {
  if (!isLocale(locale)) return { ok: false, error: "invalid" };
  const session = await getSession();
  if (!session) return signedOut;
  await prisma().user.update({ where: { id: session.user.id }, data: { locale } });
  return { ok: true };
}

/** The account's saved language, read right after signing in (null: none saved). */
export async function savedLocaleAction(): Promise<string | null> {
  const session = await getSession();
  if (!session) return null;
  const user = await prisma().user.findUnique({
    where: { id: session.user.id },
    select: { locale: true },
  });
  return user?.locale && isLocale(user.locale) ? user.locale : null;
}
