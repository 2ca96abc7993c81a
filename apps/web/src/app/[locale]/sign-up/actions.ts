"use server";

import { isLocale } from "@chorus/i18n";
import { headers } from "next/headers";
import { env } from "@/env";
import type { FieldErrors, SignUpInput } from "@/lib/account-schema";
import { sendVerificationMail } from "@/server/account-mail";
import { signUp } from "@/server/accounts";
import { clientIp } from "@/server/client-ip";
import { prisma } from "@/server/db";
import { authThrottle } from "@/server/throttle";

export type CreateAccountResult =
  | { ok: true }
  | { ok: false; error: "invalid"; fieldErrors: FieldErrors }
  | { ok: false; error: "email_taken" }
  | { ok: false; error: "throttled"; retryAfterSeconds: number };

/**
 * Creates the account; the form then signs in through next-auth with the same credentials.
 * Server actions only accept same-origin POSTs (Next checks Origin against Host).
 */
export async function createAccount(
  fields: SignUpInput,
  locale: string,
): Promise<CreateAccountResult> {
  const result = await signUp(
    {
      prisma: prisma(),
      throttle: authThrottle(),
      adminEmails: env().ADMIN_EMAILS,
      ...(isLocale(locale) ? { locale } : {}),
      sendVerification: (user) =>
        sendVerificationMail(prisma(), user, isLocale(locale) ? locale : "en"),
    },
    fields,
    clientIp(await headers()),
  );
  if (result.ok) return { ok: true };
  return result;
}
