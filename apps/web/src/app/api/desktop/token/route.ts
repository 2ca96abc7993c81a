import { env } from "@/env";
import { prisma } from "@/server/db";
import { handleTokenRequest } from "@/server/desktop-auth";
import { withInternalErrors } from "@/server/internal-error";
import { getSigningKey } from "@/server/signing-key";

// RFC 6749 §5.1: token responses are never cached.
const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" };

async function readBody(request: Request): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  try {
    if (type.includes("application/x-www-form-urlencoded")) {
      return Object.fromEntries(new URLSearchParams(await request.text()));
    }
    return await request.json();
  } catch {
    return undefined;
  }
}

/** ADR 0002 §3-4: the desktop engine's code exchange and refresh. */
async function handlePOST(request: Request): Promise<Response> {
  const body = await readBody(request);
  if (body === undefined) {
    return Response.json(
      { error: "invalid_request", error_description: "the body must be a JSON object" },
      { status: 400, headers: NO_STORE },
    );
  }
  const result = await handleTokenRequest(
    {
      prisma: prisma(),
      signingKey: await getSigningKey(),
      syncUrl: env().SYNC_URL,
      refreshGraceSeconds: env().REFRESH_GRACE_SECONDS,
    },
    body,
  );
  return Response.json(result.body, { status: result.status, headers: NO_STORE });
}

export const POST = withInternalErrors("/api/desktop/token", handlePOST);
