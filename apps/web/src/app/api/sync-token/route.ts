import { env } from "@/env";
import { prisma } from "@/server/db";
import { withInternalErrors } from "@/server/internal-error";
import { getSession } from "@/server/session";
import { getSigningKey } from "@/server/signing-key";
import { mintWebToken } from "@/server/token-minting";

export const dynamic = "force-dynamic";

const NO_STORE = { "cache-control": "no-store" };

/** ADR 0002 §6: a short-lived `kind=web` token for pages that call the sync server. */
async function handleGET(): Promise<Response> {
  const session = await getSession();
  if (!session) {
    return Response.json({ error: "sign in first" }, { status: 401, headers: NO_STORE });
  }
  const minted = await mintWebToken(prisma(), await getSigningKey(), session.user.id);
  if (!minted) {
    return Response.json(
      { error: "this account no longer exists" },
      { status: 401, headers: NO_STORE },
    );
  }
  return Response.json(
    { token: minted.token, expiresAt: minted.expiresAt.toISOString(), syncUrl: env().SYNC_URL },
    { headers: NO_STORE },
  );
}

export const GET = withInternalErrors("/api/sync-token", handleGET);
