import { join } from "node:path";
import { z } from "zod";
import { memorySecretStore, secretFileStore } from "./secret-store.js";

/**
 * The account's master key as a device keeps it once the encryption password opened it: the
 * key bytes (base64url), whose account they are and their key epoch. It is as sensitive as the
 * password itself, so it lives where the refresh token lives: a 0600 file for the headless
 * CLI, the OS keychain (Electron safeStorage) for the desktop app, memory in tests.
 */
export const StoredAccountKey = z.object({
  userId: z.string().min(1),
  epoch: z.int().positive(),
  key: z.string().min(1),
});
export type StoredAccountKey = z.infer<typeof StoredAccountKey>;

export interface KeyStore {
  load(): StoredAccountKey | null;
  save(key: StoredAccountKey): void;
  clear(): void;
}

export const MASTER_KEY_FILE = "master-key.json";

/**
 * The headless CLI's store: `master-key.json` in the profile folder, mode 0600, replaced
 * atomically like `credentials.json` (written beside it, then renamed).
 */
export function fileKeyStore(profileDir: string): KeyStore {
  return secretFileStore(join(profileDir, MASTER_KEY_FILE), StoredAccountKey);
}

export function memoryKeyStore(initial: StoredAccountKey | null = null): KeyStore {
  return memorySecretStore(initial);
}
