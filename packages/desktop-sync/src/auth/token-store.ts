import { join } from "node:path";
import { z } from "zod";
import { memorySecretStore, secretFileStore } from "./secret-store.js";

/**
 * The one long-lived secret of a profile: a refresh token (browser sign-in), or a fixed
 * access token bound by a test or script. Access tokens from a refresh live in memory only.
 */
export const StoredCredential = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("refresh"), refreshToken: z.string().min(1), webUrl: z.string() }),
  z.object({ kind: z.literal("static"), accessToken: z.string().min(1) }),
]);
export type StoredCredential = z.infer<typeof StoredCredential>;

/** Where a profile keeps its credential: a 0600 file (CLI), safeStorage (Electron), memory (tests). */
export interface TokenStore {
  load(): StoredCredential | null;
  save(credential: StoredCredential): void;
  clear(): void;
}

export const CREDENTIALS_FILE = "credentials.json";

/**
 * The headless CLI's store: `credentials.json` in the profile folder, mode 0600, replaced
 * atomically (written beside it, then renamed) so a crash never leaves half a token.
 */
export function fileTokenStore(profileDir: string): TokenStore {
  return secretFileStore(join(profileDir, CREDENTIALS_FILE), StoredCredential);
}

export function memoryTokenStore(initial: StoredCredential | null = null): TokenStore {
  return memorySecretStore(initial);
}
