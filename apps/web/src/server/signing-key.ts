import { createHash } from "node:crypto";
import {
  defaultDevKeyFile,
  exportSigningKeyPem,
  importSigningKey,
  importVerificationKey,
  loadOrCreateDevSigningKey,
  type SigningKey,
  type VerificationKey,
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

let previousKey: Promise<VerificationKey | null> | undefined;

async function loadPreviousKey(): Promise<VerificationKey | null> {
  const text = env().AUTH_PREVIOUS_PUBLIC_KEY;
  if (!text) return null;
  try {
    return await importVerificationKey(text);
  } catch (error) {
    throw new SettingsError(`cannot load AUTH_PREVIOUS_PUBLIC_KEY: ${(error as Error).message}`);
  }
}

/**
 * The keys the JWKS publishes: the current signing key, then (during a rotation) the previous
 * one, so tokens it signed stay verifiable until they expire. The sync server picks by kid.
 */
export async function getPublishedKeys(): Promise<Array<SigningKey | VerificationKey>> {
  previousKey ??= loadPreviousKey().catch((error: unknown) => {
    previousKey = undefined;
    throw error;
  });
  const [current, previous] = await Promise.all([getSigningKey(), previousKey]);
  return previous && previous.kid !== current.kid ? [current, previous] : [current];
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
