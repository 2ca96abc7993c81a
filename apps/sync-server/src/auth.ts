import { resolve } from "node:path";
import { type AccessTokenVerifier, createVerifier, loadOrCreateDevSigningKey } from "@chorus/auth";
import { SettingsError, type SyncServerEnv } from "./env.js";

/** Least time between two fetches of the JWKS when a token names an unknown kid. */
export const JWKS_COOLDOWN_MS = 5_000;

/**
 * Where the sync server gets the issuer's public key: a JWKS URL (the web app's endpoint, keys
 * rotate there), a fixed public key, or, in development only, the shared dev key file.
 */
export async function createTokenVerifier(env: SyncServerEnv): Promise<AccessTokenVerifier> {
  try {
    if (env.AUTH_JWKS_URL) {
      // Keys are picked by the token's kid. A kid the cached set lacks (the key was rotated)
      // refetches the set, at most once per cooldown: short, so a rotation is picked up within
      // seconds, yet a flood of forged kids costs the web app one request per 5 s per replica.
      return await createVerifier({
        jwksUrl: env.AUTH_JWKS_URL,
        jwksOptions: { cooldownDuration: JWKS_COOLDOWN_MS },
      });
    }
    if (env.AUTH_PUBLIC_KEY) return await createVerifier({ publicKey: env.AUTH_PUBLIC_KEY });
    const devKey = await loadOrCreateDevSigningKey(resolve(env.CHORUS_DEV_KEY_FILE));
    return await createVerifier({ publicKey: devKey.publicKey });
  } catch (error) {
    throw new SettingsError(`cannot set up token verification: ${(error as Error).message}`);
  }
}
