import { env } from "@/env";
import { prisma } from "@/server/db";
import { revokeRefreshToken, syncServerRevoker } from "@/server/desktop-auth";
import { withInternalErrors } from "@/server/internal-error";
import { getSigningKey } from "@/server/signing-key";

/**
 * RFC 7009 token revocation, used by the desktop's "Sign out" (ADR 0002 §7). Answers 200 for
 * any well-formed request, known token or not; 400 only for a request without a token.
 */
async function handlePOST(request: Request): Promise<Response> {
  const type = request.headers.get("content-type") ?? "";
  let token: unknown;
  try {
    const body = type.includes("application/x-www-form-urlencoded")
      ? Object.fromEntries(new URLSearchParams(await request.text()))
      : ((await request.json()) as Record<string, unknown>);
    token = body?.token;
  } catch {
    token = undefined;
  }
  if (typeof token !== "string" || token.length === 0 || token.length > 512) {
    return Response.json(
      { error: "invalid_request", error_description: "token is required" },
      { status: 400, headers: { "cache-control": "no-store" } },
    );
  }
  await revokeRefreshToken(
    {
      prisma: prisma(),
      revokeOnSyncServer: syncServerRevoker(await getSigningKey(), env().SYNC_URL),
      warn: (message, detail) =>
        console.warn(JSON.stringify({ level: "warn", message, ...detail })),
    },
    token,
  );
  return new Response(null, { status: 200, headers: { "cache-control": "no-store" } });
}

export const POST = withInternalErrors("/api/desktop/revoke", handlePOST);
