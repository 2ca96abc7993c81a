import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createProfile, DeviceEngine, type Diagnostics } from "@chorus/desktop-sync";
import { expect, type Page } from "@playwright/test";
import { E2E_TIMEOUTS } from "./timeouts.ts";

/*
 * A desktop without a window: the real device engine of packages/desktop-sync (the one the
 * Electron app and the chorus-device CLI run) with its own SQLite profile in a temp folder,
 * bound to an account through the web app's /desktop-login exactly as a desktop is (RFC 8252
 * loopback + PKCE, approved in a browser page signed in as the owner), syncing with the e2e
 * sync server over HTTP and WebSocket. Its edits are real pushes; what other devices push
 * reaches it over its subscription and is ACKed, as on a desktop.
 */
export interface HeadlessDeviceOptions {
  /** Shown on the consent screen, in /account and in the console. */
  name: string;
  platform?: string;
  appVersion?: string;
  /** The slow timer of its telemetry reports (default 60 s; a report's answer can ask for an audit). */
  telemetryMs?: number;
}

export class HeadlessDevice {
  /** How many full resyncs (resync_required -> rebuild) this engine has completed. */
  resyncs = 0;

  private constructor(
    readonly name: string,
    readonly engine: DeviceEngine,
    private readonly dataDir: string,
  ) {
    engine.on((event) => {
      if (event.type === "resync" && event.progress?.phase === "done") this.resyncs++;
    });
  }

  /**
   * A new engine, signed in through the browser: `ownerPage` (signed in as the owner) opens
   * the URL the engine would open in the system browser and approves. Ends online.
   */
  static async signIn(
    ownerPage: Page,
    webUrl: string,
    options: HeadlessDeviceOptions,
  ): Promise<HeadlessDevice> {
    const dataDir = mkdtempSync(join(tmpdir(), "chorus-e2e-device-"));
    createProfile(dataDir, "main");
    const engine = DeviceEngine.open({
      dataDir,
      profile: "main",
      ...(options.telemetryMs ? { timing: { telemetryMs: options.telemetryMs } } : {}),
    });
    const device = new HeadlessDevice(options.name, engine, dataDir);
    try {
      await engine.signInWithBrowser({
        webUrl,
        deviceName: options.name,
        platform: options.platform ?? "linux",
        appVersion: options.appVersion ?? "1.4.2",
        openUrl: async (url) => {
          await ownerPage.goto(url);
          await ownerPage.getByTestId("consent-approve").click();
          // The loopback answers by sending the tab to the done page; wait for it, or the
          // next device's goto on this tab is interrupted by that late navigation.
          await ownerPage.waitForURL(/\/desktop-login\/done/);
        },
        timeoutMs: 30_000,
      });
      await device.online();
      return device;
    } catch (error) {
      await device.close();
      throw error;
    }
  }

  /** The server-assigned device id (the token's `did`). */
  get deviceId(): string {
    return this.engine.deviceId();
  }

  status(): Diagnostics {
    return this.engine.diagnostics();
  }

  /** The local cursor: the newest op of the account this engine has applied. */
  cursor(): number {
    return this.status().cursor;
  }

  /** Connects (drain + subscription) and waits until the subscription is live. */
  async online(timeout = E2E_TIMEOUTS.expect): Promise<void> {
    await this.engine.start();
    await expect
      .poll(() => this.status().connection, { timeout, message: `${this.name} connects` })
      .toBe("connected");
  }

  /**
   * Disconnects, as a desktop that is shut: the last ACK is sent first, and the server writes
   * the ACKs it buffered for this device when the socket closes.
   */
  async offline(): Promise<void> {
    await this.engine.stop();
  }

  /** Creates a playlist (one push) and waits until the server accepted it; returns its id. */
  async createPlaylist(name: string): Promise<string> {
    const playlist = await this.engine.createPlaylist(name);
    await this.uploaded();
    return playlist.id;
  }

  /** Renames a playlist (one op; earlier names become superseded, i.e. compactable). */
  async renamePlaylist(id: string, name: string): Promise<void> {
    await this.engine.renamePlaylist(id, name);
    await this.uploaded();
  }

  /** Waits until nothing is queued: every local edit was pushed and accepted. */
  async uploaded(timeout = E2E_TIMEOUTS.expect): Promise<void> {
    await expect
      .poll(() => this.status().pendingCount, { timeout, message: `${this.name} uploads` })
      .toBe(0);
  }

  /** Waits until this engine has applied the account's ops up to `opId`. */
  async caughtUpTo(opId: number, timeout = E2E_TIMEOUTS.expect): Promise<void> {
    await expect
      .poll(() => this.cursor(), { timeout, message: `${this.name} receives op ${opId}` })
      .toBeGreaterThanOrEqual(opId);
  }

  playlistNames(): string[] {
    return this.engine.playlists().map((playlist) => playlist.name);
  }

  async close(): Promise<void> {
    await this.engine.close().catch(() => {});
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
