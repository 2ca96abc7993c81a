import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  EngineError,
  type KeyStore,
  StoredAccountKey,
  StoredCredential,
  type TokenStore,
} from "@chorus/desktop-sync";
import { safeStorage } from "electron";

const FILE = "credentials.safe";

/**
 * The Electron app's credential store: the refresh token encrypted with the OS keychain
 * (safeStorage: Keychain, DPAPI, libsecret/kwallet), in a 0600 file in the profile folder.
 * Without OS encryption it refuses to store anything rather than keep a readable secret.
 */
export function safeStorageTokenStore(profileDir: string): TokenStore {
  const file = join(profileDir, FILE);
  return {
    load() {
      if (!existsSync(file) || !safeStorage.isEncryptionAvailable()) return null;
      try {
        const parsed = StoredCredential.safeParse(
          JSON.parse(safeStorage.decryptString(readFileSync(file))),
        );
        return parsed.success ? parsed.data : null;
      } catch {
        return null;
      }
    },
    save(credential) {
      if (!safeStorage.isEncryptionAvailable()) {
        throw new EngineError(
          "sign_in_failed",
          "this computer offers no secure storage for the sign-in (no keychain); Chorus will not keep the token in plain text",
          {},
        );
      }
      const temp = `${file}.tmp`;
      writeFileSync(temp, safeStorage.encryptString(JSON.stringify(credential)), { mode: 0o600 });
      chmodSync(temp, 0o600);
      renameSync(temp, file);
    },
    clear() {
      rmSync(file, { force: true });
    },
  };
}

const KEY_FILE = "master-key.safe";

/**
 * The account's master key (once the encryption password opened it), encrypted with the OS
 * keychain like the refresh token, in a 0600 file in the profile folder. Without OS
 * encryption it refuses to keep it: the device asks for the password again on the next start
 * rather than keep the key readable.
 */
export function safeStorageKeyStore(profileDir: string): KeyStore {
  const file = join(profileDir, KEY_FILE);
  return {
    load() {
      if (!existsSync(file) || !safeStorage.isEncryptionAvailable()) return null;
      try {
        const parsed = StoredAccountKey.safeParse(
          JSON.parse(safeStorage.decryptString(readFileSync(file))),
        );
        return parsed.success ? parsed.data : null;
      } catch {
        return null;
      }
    },
    save(key) {
      if (!safeStorage.isEncryptionAvailable()) {
        throw new EngineError(
          "encryption_locked",
          "this computer offers no secure storage for the encryption key (no keychain); Chorus will not keep it in plain text",
          {},
        );
      }
      const temp = `${file}.tmp`;
      writeFileSync(temp, safeStorage.encryptString(JSON.stringify(key)), { mode: 0o600 });
      chmodSync(temp, 0o600);
      renameSync(temp, file);
    },
    clear() {
      rmSync(file, { force: true });
    },
  };
}
