import { resolve } from "node:path";
import { type AccessTokenVerifier, createVerifier, loadOrCreateDevSigningKey } from "@chorus/auth";
import { SettingsError, type SyncServerEnv } from "./env.js";

/**
 * Where the sync server gets the issuer's public key: a JWKS URL (the web app's endpoint, keys
 * rotate there), a fixed public key, or, in development only, the shared dev key file.
 */
export async function createTokenVerifier(env: SyncServerEnv): Promise<AccessTokenVerifier> {
  try {
    if (env.AUTH_JWKS_URL) return await createVerifier({ jwksUrl: env.AUTH_JWKS_URL });
    if (env.AUTH_PUBLIC_KEY) return await createVerifier({ publicKey: env.AUTH_PUBLIC_KEY });
    const devKey = await loadOrCreateDevSigningKey(resolve(env.CHORUS_DEV_KEY_FILE));
    return await createVerifier({ publicKey: devKey.publicKey });
  } catch (error) {
    throw new SettingsError(`cannot set up token verification: ${(error as Error).message}`);
  }
}
