import { resolve } from "node:path";
import { DatabaseUrl } from "@chorus/db";
import { z } from "zod";

/** Settings of `npm start`, validated once; the apps validate their own in their env.ts. */
const StartSettingsSchema = z.object({
  /** Unset or empty: an embedded database. */
  DATABASE_URL: z.preprocess((value) => (value === "" ? undefined : value), DatabaseUrl.optional()),
  CHORUS_HOST: z.string().default("127.0.0.1"),
  WEB_PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  SYNC_PORT: z.coerce.number().int().min(1).max(65535).default(4000),
  CHORUS_DATA_DIR: z.string().default(".data"),
  /** Where to write the database URL once it is known (the e2e run's tests reach the database). */
  CHORUS_DATABASE_URL_FILE: z.string().optional(),
});

export interface StartSettings {
  databaseUrl: string | undefined;
  host: string;
  webPort: number;
  syncPort: number;
  dataDir: string;
  databaseUrlFile: string | undefined;
}

export function loadStartSettings(env: Record<string, string | undefined>): StartSettings {
  const parsed = StartSettingsSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`invalid settings: ${lines.join("; ")}`);
  }
  const s = parsed.data;
  return {
    databaseUrl: s.DATABASE_URL || undefined,
    host: s.CHORUS_HOST,
    webPort: s.WEB_PORT,
    syncPort: s.SYNC_PORT,
    dataDir: resolve(s.CHORUS_DATA_DIR),
    databaseUrlFile: s.CHORUS_DATABASE_URL_FILE ? resolve(s.CHORUS_DATABASE_URL_FILE) : undefined,
  };
}
