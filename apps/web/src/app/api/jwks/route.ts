import { exportPublicJwks } from "@chorus/auth";
import { withInternalErrors } from "@/server/internal-error";
import { getSigningKey } from "@/server/signing-key";

// Served at /.well-known/jwks.json through a rewrite (next.config.ts): the App Router does not
// route folders whose name starts with a dot.
export const dynamic = "force-dynamic";

/** The public half of the signing key, for the sync server's AUTH_JWKS_URL. */
async function handleGET(): Promise<Response> {
  return Response.json(await exportPublicJwks([await getSigningKey()]), {
    headers: { "cache-control": "public, max-age=300" },
  });
}

export const GET = withInternalErrors("/api/jwks", handleGET);
