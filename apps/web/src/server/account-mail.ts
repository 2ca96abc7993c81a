import type { PrismaClient } from "@chorus/db";
import { defaultLocale, isLocale, type Locale, loadMessages } from "@chorus/i18n";
import { createTranslator } from "next-intl";
import { env } from "@/env";
import { issueEmailToken } from "./email-tokens";
import { type Mail, sendMail } from "./mail";

/*
 * The mails an account receives, in the account's saved language (the `Mail` namespace of the
 * catalogs in @chorus/i18n); an account without one gets the language of the page that caused
 * the mail. Links point at the page in that same language.
 */

/** The account's saved language when it has one, else the page's, else English. */
export function mailLocale(saved: string | null | undefined, page?: string): Locale {
  if (isLocale(saved)) return saved;
  return isLocale(page) ? page : defaultLocale;
}

async function mailTranslator(locale: Locale) {
  return createTranslator({ locale, messages: await loadMessages(locale), namespace: "Mail" });
}

function link(locale: Locale, path: string, token?: string): string {
  const url = new URL(`/${locale}${path}`, env().WEB_URL);
  if (token !== undefined) url.searchParams.set("token", token);
  return url.toString();
}

/** Delivery problems are logged, never thrown: the account change they follow has happened. */
async function deliver(kind: string, send: () => Promise<void>): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (error) {
    console.error(`[chorus] could not send the ${kind} mail:`, error);
    return false;
  }
}

type MailUser = { id: string; email: string; locale?: string | null };

/** A mail carrying a one-time link: a line, how to use the link, the link, what if it was not you. */
async function oneTimeLinkMail(
  kind: "verify" | "reset",
  path: string,
  user: MailUser,
  token: string,
  page: string | undefined,
): Promise<Mail> {
  const locale = mailLocale(user.locale, page);
  const t = await mailTranslator(locale);
  return {
    to: user.email,
    subject: t(`${kind}.subject`),
    text: [
      t(`${kind}.intro`),
      "",
      t(`${kind}.instructions`),
      "",
      link(locale, path, token),
      "",
      t(`${kind}.ignore`),
    ].join("\n"),
  };
}

export function verificationMail(user: MailUser, token: string, page?: string): Promise<Mail> {
  return oneTimeLinkMail("verify", "/verify-email", user, token, page);
}

export function passwordResetMail(user: MailUser, token: string, page?: string): Promise<Mail> {
  return oneTimeLinkMail("reset", "/reset-password", user, token, page);
}

/** To the owner of an address someone tried to sign up with again: sign in, or reset. */
export async function alreadyRegisteredMail(user: MailUser, page?: string): Promise<Mail> {
  const locale = mailLocale(user.locale, page);
  const t = await mailTranslator(locale);
  return {
    to: user.email,
    subject: t("alreadyRegistered.subject"),
    text: [
      t("alreadyRegistered.intro"),
      "",
      t("alreadyRegistered.signIn", { url: link(locale, "/sign-in") }),
      t("alreadyRegistered.forgot", { url: link(locale, "/forgot-password") }),
      "",
      t("alreadyRegistered.ignore"),
    ].join("\n"),
  };
}

export async function deviceBoundMail(
  user: { email: string; locale: string | null },
  device: { name: string; platform: string; boundAt: Date },
): Promise<Mail> {
  const locale = mailLocale(user.locale);
  const t = await mailTranslator(locale);
  // The reader's time zone is unknown: the moment is written in UTC, and says so.
  const time = new Intl.DateTimeFormat(locale, {
    dateStyle: "long",
    timeStyle: "long",
    timeZone: "UTC",
  }).format(device.boundAt);
  return {
    to: user.email,
    subject: t("deviceBound.subject", { device: device.name }),
    text: [
      t("deviceBound.connected", { device: device.name, platform: device.platform, time }),
      "",
      t("deviceBound.ifYou"),
      t("deviceBound.ifNot", { url: link(locale, "/account") }),
    ].join("\n"),
  };
}

export function sendVerificationMail(
  prisma: PrismaClient,
  user: MailUser,
  locale: string,
): Promise<boolean> {
  return deliver("verification", async () => {
    const token = await issueEmailToken(prisma, user.id, "verify_email");
    await sendMail(await verificationMail(user, token, locale));
  });
}

export function sendPasswordResetMail(
  prisma: PrismaClient,
  user: MailUser,
  locale: string,
): Promise<boolean> {
  return deliver("password reset", async () => {
    const token = await issueEmailToken(prisma, user.id, "reset_password");
    await sendMail(await passwordResetMail(user, token, locale));
  });
}

export function sendDeviceBoundMail(
  user: { email: string; locale: string | null },
  device: { name: string; platform: string; boundAt: Date },
): Promise<boolean> {
  return deliver("new device", async () => {
    await sendMail(await deviceBoundMail(user, device));
  });
}

export function sendAlreadyRegisteredMail(user: MailUser, locale: string): Promise<boolean> {
  return deliver("already registered", async () => {
    await sendMail(await alreadyRegisteredMail(user, locale));
  });
}
