import { exportPublicJwks } from "@chorus/auth";
import { withInternalErrors } from "@/server/internal-error";
import { getPublishedKeys } from "@/server/signing-key";

// Served at /.well-known/jwks.json through a rewrite (next.config.ts): the App Router does not
// route folders whose name starts with a dot.
export const dynamic = "force-dynamic";

/**
 * The public keys, for the sync server's AUTH_JWKS_URL: the current signing key and, during a
 * rotation, the previous one (AUTH_PREVIOUS_PUBLIC_KEY).
 */
async function handleGET(): Promise<Response> {
  return Response.json(await exportPublicJwks(await getPublishedKeys()), {
    headers: { "cache-control": "public, max-age=300" },
  });
}

export const GET = withInternalErrors("/api/jwks", handleGET);
