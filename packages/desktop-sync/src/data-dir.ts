import { posix, win32 } from "node:path";

export interface DataDirInput {
  /** --data-dir, wins over everything. */
  flag?: string | undefined;
  /** The environment to read CHORUS_DATA_DIR, APPDATA and XDG_DATA_HOME from. */
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  homedir: string;
  cwd: string;
}

/**
 * The folder holding every profile. The CLI and the Electron app both call this, so a
 * profile created by one is seen by the other.
 */
export function resolveDataDir(input: DataDirInput): string {
  const path = input.platform === "win32" ? win32 : posix;
  const explicit = nonEmpty(input.flag) ?? nonEmpty(input.env.CHORUS_DATA_DIR);
  if (explicit) return path.resolve(input.cwd, explicit);
  return defaultDataDir(input);
}

/** The OS convention for per-user application data (not config, not cache). */
export function defaultDataDir(input: Omit<DataDirInput, "flag" | "cwd">): string {
  const { env, platform, homedir } = input;
  if (platform === "win32") {
    return win32.join(nonEmpty(env.APPDATA) ?? win32.join(homedir, "AppData", "Roaming"), "Chorus");
  }
  if (platform === "darwin") {
    return posix.join(homedir, "Library", "Application Support", "Chorus");
  }
  return posix.join(
    nonEmpty(env.XDG_DATA_HOME) ?? posix.join(homedir, ".local", "share"),
    "chorus",
  );
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== "" ? value : undefined;
}
