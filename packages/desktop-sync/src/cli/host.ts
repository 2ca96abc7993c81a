import { hostname } from "node:os";
import packageJson from "../../package.json" with { type: "json" };
import type { CommandHost, LibraryCommands, Settings } from "../commands/index.js";
import type { ProfileStatus, ProfileSummary } from "../contract.js";
import { DeviceEngine } from "../engine.js";
import { EngineError } from "../errors.js";
import { createProfile, listProfiles } from "../profiles.js";
import { readProfileStatus } from "../status.js";
import type { CliIo } from "./run.js";

/** The version this CLI reports when it binds a profile: its package's, bundled at build. */
const APP_VERSION = packageJson.version;

export interface CliHostOptions {
  dataDir: string;
  /** Resolves --profile / CHORUS_PROFILE / the only profile (throws when ambiguous). */
  profile(): string;
  io: CliIo;
  timeoutMs: number;
  print(value: unknown, human: string): void;
  /** signin: print the URL only, do not open a browser. */
  noOpen: boolean;
  /** The engine's log goes to stderr (long-lived commands). */
  logToStderr: boolean;
}

/**
 * The CLI as a command host: one process, one profile, its engine opened on first use (so
 * `profile create|list` never open one) and closed when the command ends.
 */
export class CliHost implements CommandHost {
  private opened: DeviceEngine | null = null;

  constructor(private readonly options: CliHostOptions) {}

  get engine(): DeviceEngine {
    if (!this.opened) {
      const { io } = this.options;
      this.opened = DeviceEngine.open({
        dataDir: this.options.dataDir,
        profile: this.options.profile(),
        log: (message, context) => {
          if (this.options.logToStderr)
            io.stderr(
              `${JSON.stringify({ time: new Date().toISOString(), message, ...context })}\n`,
            );
        },
      });
    }
    return this.opened;
  }

  get library(): LibraryCommands {
    return this.engine;
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  get signal(): AbortSignal | undefined {
    return this.options.io.signal;
  }

  status(): ProfileStatus {
    return readProfileStatus(this.engine.profile);
  }

  listProfiles(): ProfileSummary[] {
    return listProfiles(this.options.dataDir);
  }

  createProfile(name: string) {
    return createProfile(this.options.dataDir, name);
  }

  async switchProfile(): Promise<void> {
    throw new EngineError("invalid_input", "the CLI opens the profile --profile names", {});
  }

  settings(): Settings {
    const engine = this.engine;
    return {
      account: engine.account(),
      mode: engine.mode(),
      defaultWebUrl: null,
      signInPending: false,
      profile: engine.profileName,
      defaultDeviceName: `${hostname()} — ${engine.profileName}`.slice(0, 80),
    };
  }

  async signInWithBrowser(webUrl: string, deviceName?: string): Promise<Settings> {
    const { io, print, noOpen } = this.options;
    await this.engine.signInWithBrowser({
      webUrl,
      deviceName: deviceName ?? this.settings().defaultDeviceName,
      platform: `${io.platform}`,
      appVersion: APP_VERSION,
      openUrl: (url) => {
        print({ url }, `Open this address in your browser to sign in:\n\n  ${url}\n\n`);
        if (!noOpen) io.openUrl?.(url);
      },
      ...(io.signal ? { signal: io.signal } : {}),
    });
    return this.settings();
  }

  cancelSignIn(): Settings {
    return this.settings();
  }

  playlistsHoldingTrack(trackId: string): number {
    return this.engine
      .snapshot()
      .playlists.filter((playlist) => playlist.entries.some((entry) => entry.trackId === trackId))
      .length;
  }

  stream(value: unknown, human: string): void {
    this.options.print(value, human);
  }

  warn(text: string): void {
    this.options.io.stderr(text);
  }

  /** Whether the command opened the engine (a one-shot edit then tries to upload). */
  get engineOpened(): boolean {
    return this.opened !== null;
  }

  async close(): Promise<void> {
    await this.opened?.close();
  }
}
