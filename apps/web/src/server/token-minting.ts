import type { SigningKey } from "@chorus/auth";
import { type MintedToken, mintAccessToken } from "@chorus/auth";
import type { PrismaClient } from "@chorus/db";

/** Web tokens are short: a page asks /api/sync-token again when one runs out. */
export const WEB_TOKEN_TTL_SECONDS = 5 * 60;

/**
 * A `kind=web` access token for the browser pages that call the sync server. The role comes
 * from the database, not the session cookie, so a demoted admin loses the console at once.
 * Null when the account no longer exists.
 */
export async function mintWebToken(
  prisma: PrismaClient,
  signingKey: SigningKey,
  userId: string,
  now: Date = new Date(),
): Promise<MintedToken | null> {
  const user = await prisma.user.findUnique({ where: { id: userId }, select: { role: true } });
  if (!user) return null;
  return mintAccessToken(
    signingKey,
    { kind: "web", userId, role: user.role },
    { ttlSeconds: WEB_TOKEN_TTL_SECONDS, now: () => now },
  );
}
