import type { PrismaClient } from "@chorus/db";
import { env } from "@/env";
import { issueEmailToken } from "./email-tokens";
import { sendMail } from "./mail";

/*
 * The mails an account receives. Links point at the page in the account's language; the mail
 * text itself is English for now.
 */

function link(locale: string, path: string, token: string): string {
  const url = new URL(`/${locale}${path}`, env().WEB_URL);
  url.searchParams.set("token", token);
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

export function sendVerificationMail(
  prisma: PrismaClient,
  user: { id: string; email: string },
  locale: string,
): Promise<boolean> {
  return deliver("verification", async () => {
    const token = await issueEmailToken(prisma, user.id, "verify_email");
    await sendMail({
      to: user.email,
      subject: "Confirm your email address for Chorus",
      text: [
        "Welcome to Chorus.",
        "",
        "Confirm that this is your email address by opening this link (it works once, for 48 hours):",
        "",
        link(locale, "/verify-email", token),
        "",
        "If you did not create a Chorus account, ignore this mail.",
      ].join("\n"),
    });
  });
}

export function sendPasswordResetMail(
  prisma: PrismaClient,
  user: { id: string; email: string },
  locale: string,
): Promise<boolean> {
  return deliver("password reset", async () => {
    const token = await issueEmailToken(prisma, user.id, "reset_password");
    await sendMail({
      to: user.email,
      subject: "Reset your Chorus password",
      text: [
        "Someone asked to reset the password of your Chorus account.",
        "",
        "Choose a new password with this link (it works once, for one hour):",
        "",
        link(locale, "/reset-password", token),
        "",
        "If it was not you, ignore this mail: your password stays as it is.",
      ].join("\n"),
    });
  });
}

export function sendDeviceBoundMail(
  user: { email: string; locale: string | null },
  device: { name: string; platform: string; boundAt: Date },
): Promise<boolean> {
  return deliver("new device", async () => {
    const account = new URL(`/${user.locale ?? "en"}/account`, env().WEB_URL).toString();
    await sendMail({
      to: user.email,
      subject: `A new desktop was connected to your Chorus account: ${device.name}`,
      text: [
        `“${device.name}” (${device.platform}) was connected to your Chorus account at ${device.boundAt.toISOString()}.`,
        "",
        "If this was you, there is nothing to do.",
        `If not, revoke it at once and change your password: ${account}`,
      ].join("\n"),
    });
  });
}
