import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { z } from "zod";

/** Where a profile keeps one secret: a 0600 file (CLI), safeStorage (Electron), memory (tests). */
export interface SecretStore<T> {
  load(): T | null;
  save(value: T): void;
  clear(): void;
}

/**
 * A secret in a file of the profile folder, mode 0600, replaced atomically (written beside it,
 * then renamed) so a crash never leaves half of it. A file that is not valid JSON or does not
 * match the schema loads as nothing (the profile signs in or unlocks again).
 */
export function secretFileStore<T>(file: string, schema: z.ZodType<T>): SecretStore<T> {
  return {
    load() {
      if (!existsSync(file)) return null;
      try {
        const parsed = schema.safeParse(JSON.parse(readFileSync(file, "utf8")));
        return parsed.success ? parsed.data : null;
      } catch {
        return null;
      }
    },
    save(value) {
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, JSON.stringify(value), { mode: 0o600 });
      chmodSync(temp, 0o600);
      renameSync(temp, file);
    },
    clear() {
      rmSync(file, { force: true });
    },
  };
}

/** A secret held in memory only (tests, server-less tools). */
export function memorySecretStore<T>(initial: T | null = null): SecretStore<T> {
  let stored = initial;
  return {
    load: () => stored,
    save: (next) => {
      stored = next;
    },
    clear: () => {
      stored = null;
    },
  };
}
