import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import nodemailer, { type Transporter } from "nodemailer";
import { env } from "@/env";

/** A mail as the dev mailbox keeps it. */
export interface StoredMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  sentAt: string;
}

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/**
 * Sends account mail through SMTP (SMTP_URL, nodemailer). On a development machine without
 * SMTP_URL the mail is kept in the dev mailbox (a folder of JSON files, shown at /dev/mailbox)
 * so a newcomer, and the Playwright flows, can read it without a mail server. Production
 * requires SMTP_URL (env.ts).
 */
export async function sendMail(mail: Mail): Promise<void> {
  const settings = env();
  if (settings.SMTP_URL) {
    await smtp(settings.SMTP_URL).sendMail({ from: settings.MAIL_FROM, ...mail });
    return;
  }
  const dir = devMailboxDir();
  mkdirSync(dir, { recursive: true });
  const stored: StoredMail = { id: randomUUID(), ...mail, sentAt: new Date().toISOString() };
  // Sortable by name: newest last.
  writeFileSync(join(dir, `${Date.now()}-${stored.id}.json`), JSON.stringify(stored, null, 2));
}

let transport: { url: string; transporter: Transporter } | undefined;
function smtp(url: string): Transporter {
  if (transport?.url !== url) transport = { url, transporter: nodemailer.createTransport(url) };
  return transport.transporter;
}

export function devMailboxDir(): string {
  return env().CHORUS_DEV_MAILBOX_DIR ?? join(process.cwd(), ".data", "dev-mailbox");
}

/** The dev mailbox, newest first (empty when nothing was sent yet). */
export function readDevMailbox(): StoredMail[] {
  let files: string[];
  try {
    files = readdirSync(devMailboxDir()).filter((file) => file.endsWith(".json"));
  } catch {
    return [];
  }
  return files
    .sort()
    .reverse()
    .map((file) => JSON.parse(readFileSync(join(devMailboxDir(), file), "utf8")) as StoredMail);
}
