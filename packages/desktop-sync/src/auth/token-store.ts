import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

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
  const file = join(profileDir, CREDENTIALS_FILE);
  return {
    load() {
      if (!existsSync(file)) return null;
      const parsed = StoredCredential.safeParse(JSON.parse(readFileSync(file, "utf8")));
      return parsed.success ? parsed.data : null;
    },
    save(credential) {
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, JSON.stringify(credential), { mode: 0o600 });
      chmodSync(temp, 0o600);
      renameSync(temp, file);
    },
    clear() {
      rmSync(file, { force: true });
    },
  };
}

export function memoryTokenStore(initial: StoredCredential | null = null): TokenStore {
  let credential = initial;
  return {
    load: () => credential,
    save: (next) => {
      credential = next;
    },
    clear: () => {
      credential = null;
    },
  };
}
