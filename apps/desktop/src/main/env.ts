import { profileNameSchema } from "@chorus/desktop-sync/contract";
import { z } from "zod";

/** An unset and an empty variable mean the same thing. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" ? undefined : value), schema.optional());

/** The only place the main process reads process.env. */
const envSchema = z.object({
  /** Where profiles live; shared with the headless CLI. */
  CHORUS_DATA_DIR: optional(z.string()),
  /** Which profile to open (created when missing). */
  CHORUS_PROFILE: optional(profileNameSchema),
  /** The web app to sign in through, pre-filled in Settings (e.g. http://127.0.0.1:3000). */
  CHORUS_WEB_URL: optional(z.url()),
  /** Set by `electron-vite dev` to the renderer's dev server. */
  ELECTRON_RENDERER_URL: optional(z.url()),
  /** Read by the OS data-dir convention (Windows, Linux). */
  APPDATA: optional(z.string()),
  XDG_DATA_HOME: optional(z.string()),
});

export type DesktopEnv = z.infer<typeof envSchema>;

export function readEnv(source: Readonly<Record<string, string | undefined>>): DesktopEnv {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    throw new Error(`invalid environment:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
