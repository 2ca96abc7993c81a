import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadMessages, locales } from "@chorus/i18n";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  alreadyRegisteredMail,
  deviceBoundMail,
  passwordResetMail,
  sendDeviceBoundMail,
  verificationMail,
} from "@/server/account-mail";
import { requestPasswordReset, resendVerification } from "@/server/account-security";
import { readDevMailbox } from "@/server/mail";
import { testPrisma } from "./database";

/*
 * Account mail is written in the account's saved language: every catalog has the texts, the
 * reader gets the ones of their language, and the links open the pages in it.
 */

const database = testPrisma(2);
let mailbox: string;
beforeAll(async () => {
  mailbox = mkdtempSync(join(tmpdir(), "chorus-mail-"));
  process.env.DATABASE_URL = database.url;
  process.env.WEB_URL = "http://chorus.test";
  process.env.CHORUS_DEV_MAILBOX_DIR = mailbox;
});
afterAll(async () => {
  rmSync(mailbox, { recursive: true, force: true });
});

const boundAt = new Date("2026-11-30T10:15:00Z");
const device = { name: "Studio laptop", platform: "linux", boundAt };

function newestMailTo(email: string) {
  const mail = readDevMailbox().find((stored) => stored.to === email);
  if (!mail) throw new Error(`no mail to ${email}`);
  return mail;
}

describe.each(locales)("account mail in %s", (locale) => {
  it("uses that catalog's texts and links to the pages in that language", async () => {
    const { Mail } = await loadMessages(locale);
    const user = { id: "u", email: "reader@example.test", locale };

    const verify = await verificationMail(user, "TOKEN");
    expect(verify.subject).toBe(Mail.verify.subject);
    expect(verify.text).toContain(Mail.verify.instructions);
    expect(verify.text).toContain(`http://chorus.test/${locale}/verify-email?token=TOKEN`);

    const reset = await passwordResetMail(user, "TOKEN");
    expect(reset.subject).toBe(Mail.reset.subject);
    expect(reset.text).toContain(Mail.reset.ignore);
    expect(reset.text).toContain(`http://chorus.test/${locale}/reset-password?token=TOKEN`);

    const again = await alreadyRegisteredMail(user);
    expect(again.subject).toBe(Mail.alreadyRegistered.subject);
    expect(again.text).toContain(Mail.alreadyRegistered.ignore);
    expect(again.text).toContain(`http://chorus.test/${locale}/sign-in`);
    expect(again.text).toContain(`http://chorus.test/${locale}/forgot-password`);

    const bound = await deviceBoundMail(user, device);
    expect(bound.subject).toBe(Mail.deviceBound.subject.replace("{device}", "Studio laptop"));
    expect(bound.text).toContain(Mail.deviceBound.ifYou);
    expect(bound.text).toContain(`http://chorus.test/${locale}/account`);
    expect(bound.text).toContain("Studio laptop");
    // Every placeholder was filled.
    for (const mail of [verify, reset, bound]) expect(mail.subject + mail.text).not.toMatch(/[{}]/);
  });
});

describe("the language of a mail", () => {
  it("is the account's saved language, not the page's (German, formal)", async () => {
    const user = await database.prisma.user.create({
      data: { email: "saved-de@example.test", passwordHash: "x", locale: "de" },
    });
    await requestPasswordReset(database.prisma, user.email, "en");
    const reset = newestMailTo(user.email);
    expect(reset.subject).toBe("Setzen Sie Ihr Chorus-Passwort zurück");
    expect(reset.text).toContain("http://chorus.test/de/reset-password?token=");
    expect(reset.text).not.toMatch(/\b(du|dein\w*)\b/i);

    expect(await resendVerification(database.prisma, user.id, "fr")).toBe(true);
    expect(newestMailTo(user.email).subject).toBe("Bestätigen Sie Ihre E-Mail-Adresse für Chorus");

    await sendDeviceBoundMail({ email: user.email, locale: "de" }, device);
    const bound = newestMailTo(user.email);
    expect(bound.subject).toBe(
      "Ein neuer Computer wurde mit Ihrem Chorus-Konto verbunden: Studio laptop",
    );
    expect(bound.text).toContain("30. November 2026");
  });

  it("is the page's language for an account that saved none", async () => {
    const user = await database.prisma.user.create({
      data: { email: "no-locale@example.test", passwordHash: "x" },
    });
    await requestPasswordReset(database.prisma, user.email, "ja");
    const reset = newestMailTo(user.email);
    expect(reset.subject).toBe("Chorus のパスワードを再設定");
    expect(reset.text).toContain("http://chorus.test/ja/reset-password?token=");
  });
});
