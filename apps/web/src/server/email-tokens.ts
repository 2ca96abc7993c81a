import { createHash, randomBytes } from "node:crypto";
import type { EmailTokenKind, PrismaClient } from "@chorus/db";

/** How long a mailed link works. */
export const EMAIL_TOKEN_TTL_MS: Record<EmailTokenKind, number> = {
  verify_email: 48 * 3600_000,
  reset_password: 3600_000,
};

export function hashEmailToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

/** A fresh one-time token for the link; only its hash is stored. */
export async function issueEmailToken(
  prisma: PrismaClient,
  userId: string,
  kind: EmailTokenKind,
  now = new Date(),
): Promise<string> {
  const token = randomBytes(32).toString("base64url");
  await prisma.emailToken.create({
    data: {
      userId,
      kind,
      tokenHash: hashEmailToken(token),
      expiresAt: new Date(now.getTime() + EMAIL_TOKEN_TTL_MS[kind]),
    },
  });
  return token;
}

export type ConsumeResult =
  | { ok: true; userId: string }
  | { ok: false; error: "invalid" | "expired" | "used" };

/**
 * Uses a token once: the conditional UPDATE lets exactly one of two racing requests win; an
 * expired or used token says which, so the page can tell the user what to do.
 */
export async function consumeEmailToken(
  prisma: PrismaClient,
  kind: EmailTokenKind,
  token: string,
  now = new Date(),
): Promise<ConsumeResult> {
  const tokenHash = hashEmailToken(token);
  const { count } = await prisma.emailToken.updateMany({
    where: { tokenHash, kind, usedAt: null, expiresAt: { gt: now } },
    data: { usedAt: now },
  });
  const row = await prisma.emailToken.findUnique({ where: { tokenHash } });
  if (!row || row.kind !== kind) return { ok: false, error: "invalid" };
  if (count === 1) return { ok: true, userId: row.userId };
  return { ok: false, error: row.usedAt ? "used" : "expired" };
}
