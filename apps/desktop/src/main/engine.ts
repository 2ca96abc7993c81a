import {
  createProfile,
  DeviceEngine,
  type EngineLog,
  type KeyStore,
  listProfiles,
  type ProfileSummary,
  readProfileStatus,
  type SyncTiming,
  type TokenStore,
} from "@chorus/desktop-sync";
import type { CommandHost, LibraryCommands, Settings } from "@chorus/desktop-sync/commands";

export interface EngineHostOptions {
  dataDir: string;
  /** The profile to open first (created when missing); default: see startupProfileName. */
  profile?: string | undefined;
  /** Where a profile keeps its credential (Electron: safeStorage; harness and CLI: a file). */
  tokenStore?: (profileDir: string) => TokenStore;
  /**
   * Where a profile keeps the account's master key once the encryption password opened it
   * (Electron: safeStorage; harness and CLI: a 0600 file).
   */
  keyStore?: (profileDir: string) => KeyStore;
  /** Opens the sign-in page in the system browser. */
  openUrl(url: string): void | Promise<void>;
  /** The web app to sign in through when the profile names none (CHORUS_WEB_URL). */
  defaultWebUrl?: string | null | undefined;
  platform: string;
  appVersion: string;
  /** This computer's name, offered as the device's name at sign-in (os.hostname()). */
  hostName?: string | undefined;
  log?: EngineLog;
  timing?: SyncTiming;
  /** Uploads over HTTP instead of the socket (see the engine's callsOverSocket). */
  callsOverSocket?: boolean;
}

const DEFAULT_PROFILE = "default";
/** The web app keeps at most this many characters of a device name. */
export const DEVICE_NAME_MAX = 80;

/**
 * Owns the one engine the window talks to, and swaps it when the user switches profile:
 * closing one engine and opening another swaps the server identity with the library.
 */
export class EngineHost implements CommandHost {
  private current: DeviceEngine;
  private signIn: AbortController | null = null;

  private constructor(private readonly options: EngineHostOptions) {
    this.current = this.openEngine(startupProfileName(options.dataDir, options.profile));
  }

  /** Opens the startup profile and starts syncing it. */
  static async open(options: EngineHostOptions): Promise<EngineHost> {
    const host = new EngineHost(options);
    await host.current.start();
    return host;
  }

  get engine(): DeviceEngine {
    return this.current;
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  /** The library the window's commands edit: the open profile's. */
  get library(): LibraryCommands {
    return this.current;
  }

  /** The window's commands do not wait for the server (see the command table). */
  readonly timeoutMs = 5_000;

  /** Long-lived CLI output; the window offers no command that streams. */
  stream(): void {}

  warn(text: string): void {
    this.options.log?.(text.trim());
  }

  private openEngine(name: string): DeviceEngine {
    if (!listProfiles(this.options.dataDir).some((p) => p.name === name)) {
      createProfile(this.options.dataDir, name);
    }
    return DeviceEngine.open({
      dataDir: this.options.dataDir,
      profile: name,
      ...(this.options.log ? { log: this.options.log } : {}),
      ...(this.options.timing ? { timing: this.options.timing } : {}),
      ...(this.options.callsOverSocket !== undefined
        ? { callsOverSocket: this.options.callsOverSocket }
        : {}),
      ...this.storesFor(name),
    });
  }

  private storesFor(name: string): { tokenStore?: TokenStore; keyStore?: KeyStore } {
    const { tokenStore, keyStore } = this.options;
    const dir = listProfiles(this.options.dataDir).find((p) => p.name === name)?.path;
    if (!dir) return {};
    return {
      ...(tokenStore ? { tokenStore: tokenStore(dir) } : {}),
      ...(keyStore ? { keyStore: keyStore(dir) } : {}),
    };
  }

  status() {
    return readProfileStatus(this.current.profile);
  }

  listProfiles(): ProfileSummary[] {
    return listProfiles(this.options.dataDir);
  }

  createProfile(name: string): ProfileSummary {
    const { name: created, path } = createProfile(this.options.dataDir, name);
    return { name: created, path };
  }

  async switchProfile(name: string): Promise<void> {
    if (name === this.current.profileName) return;
    this.signIn?.abort();
    const next = this.openEngine(name);
    const previous = this.current;
    this.current = next;
    await previous.close();
    await next.start();
  }

  settings(): Settings {
    return {
      account: this.current.account(),
      mode: this.current.mode(),
      defaultWebUrl: this.options.defaultWebUrl ?? null,
      signInPending: this.signIn !== null,
      profile: this.current.profileName,
      defaultDeviceName: this.defaultDeviceName(),
    };
  }

  /** How many playlists hold a track: what deleting it takes the track out of. */
  playlistsHoldingTrack(trackId: string): number {
    return this.current
      .snapshot()
      .playlists.filter((playlist) => playlist.entries.some((entry) => entry.trackId === trackId))
      .length;
  }

  /** The name a device gets when the user keeps the suggestion: the computer's host name. */
  defaultDeviceName(): string {
    const host = this.options.hostName?.trim();
    return (host ? host : "Chorus desktop").slice(0, DEVICE_NAME_MAX);
  }

  /**
   * Browser sign-in; resolves when the browser came back (or failed, or was cancelled). The
   * device is listed under `deviceName` on the user's account (default: the host name), so
   * two computers can be told apart.
   */
  async signInWithBrowser(webUrl: string, deviceName?: string): Promise<Settings> {
    this.signIn?.abort();
    const abort = new AbortController();
    this.signIn = abort;
    try {
      await this.current.signInWithBrowser({
        webUrl,
        deviceName: deviceName?.trim() || this.defaultDeviceName(),
        platform: this.options.platform,
        appVersion: this.options.appVersion,
        openUrl: (url) => this.options.openUrl(url),
        signal: abort.signal,
      });
    } finally {
      if (this.signIn === abort) this.signIn = null;
    }
    return this.settings();
  }

  cancelSignIn(): Settings {
    this.signIn?.abort();
    this.signIn = null;
    return this.settings();
  }

  async close(): Promise<void> {
    this.signIn?.abort();
    await this.current.close();
  }
}

/** The requested profile, else "default" when it exists or nothing does, else the first by name. */
export function startupProfileName(dataDir: string, requested: string | undefined): string {
  if (requested !== undefined) return requested;
  const existing = listProfiles(dataDir);
  if (existing.length === 0 || existing.some((p) => p.name === DEFAULT_PROFILE)) {
    return DEFAULT_PROFILE;
  }
  return existing[0]?.name ?? DEFAULT_PROFILE;
}
