import { createHash } from "node:crypto";
import {
  defaultDevKeyFile,
  exportSigningKeyPem,
  importSigningKey,
  loadOrCreateDevSigningKey,
  type SigningKey,
} from "@chorus/auth";
import { env, SettingsError } from "@/env";

let signingKey: Promise<SigningKey> | undefined;

async function loadSigningKey(): Promise<SigningKey> {
  const settings = env();
  try {
    if (settings.AUTH_PRIVATE_KEY) return await importSigningKey(settings.AUTH_PRIVATE_KEY);
    // env() refuses production without AUTH_PRIVATE_KEY, so this is a development machine.
    return await loadOrCreateDevSigningKey(settings.CHORUS_DEV_KEY_FILE ?? defaultDevKeyFile());
  } catch (error) {
    throw new SettingsError(`cannot load the token signing key: ${(error as Error).message}`);
  }
}

/** The key that signs access tokens (AUTH_PRIVATE_KEY, else the shared dev key file). */
export function getSigningKey(): Promise<SigningKey> {
  signingKey ??= loadSigningKey().catch((error: unknown) => {
    signingKey = undefined;
    throw error;
  });
  return signingKey;
}

let sessionSecret: Promise<string> | undefined;

/**
 * NEXTAUTH_SECRET, or on a development machine a secret derived from the private dev key: it is
 * unique per machine and stable across restarts, so `npm start` needs no .env.
 */
export function getSessionSecret(): Promise<string> {
  const configured = env().NEXTAUTH_SECRET;
  if (configured) return Promise.resolve(configured);
  sessionSecret ??= getSigningKey().then(async (key) => {
    const { privateKeyPem } = await exportSigningKeyPem(key);
    return createHash("sha256")
      .update(`chorus-session-secret\n${privateKeyPem}`)
      .digest("base64url");
  });
  return sessionSecret;
}
