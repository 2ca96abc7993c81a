"use server";

import { isLocale } from "@chorus/i18n";
import { headers } from "next/headers";
import { env } from "@/env";
import type { SignUpInput } from "@/lib/account-schema";
import { sendAlreadyRegisteredMail, sendVerificationMail } from "@/server/account-mail";
import { type SignUpAnswer, signUp, signUpAnswer } from "@/server/accounts";
import { clientIp } from "@/server/client-ip";
import { prisma } from "@/server/db";
import { authThrottle } from "@/server/throttle";

export type CreateAccountResult = SignUpAnswer;

/**
 * Creates the account and mails its confirmation link; the form then says to check the inbox.
 * An address that already has an account gets the very same answer (its owner gets a mail
 * instead), so sign-up does not tell anyone which addresses use Chorus (docs/adr/0005).
 * Server actions only accept same-origin POSTs (Next checks Origin against Host).
 */
export async function createAccount(
  fields: SignUpInput,
  locale: string,
): Promise<CreateAccountResult> {
  const page = isLocale(locale) ? locale : "en";
  const result = await signUp(
    {
      prisma: prisma(),
      throttle: authThrottle(),
      adminEmails: env().ADMIN_EMAILS,
      ...(isLocale(locale) ? { locale } : {}),
      sendVerification: (user) => sendVerificationMail(prisma(), user, page),
      sendAlreadyRegistered: (owner) => sendAlreadyRegisteredMail(owner, page),
    },
    fields,
    clientIp(await headers()),
  );
  return signUpAnswer(result);
}
