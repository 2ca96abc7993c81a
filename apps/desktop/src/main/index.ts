import { homedir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { resolveDataDir } from "@chorus/desktop-sync";
import { app, type BrowserWindow, dialog, session } from "electron";
import { IPC } from "../shared/ipc-channels.js";
import { type DesktopEngine, openDesktopEngine } from "./engine.js";
import { readEnv } from "./env.js";
import { registerIpcHandlers } from "./ipc.js";
import { log } from "./log.js";
import { createMainWindow, denyAllPermissions } from "./window.js";

/** App lifecycle: one instance, one engine, one window (re-created on macOS activate). */

async function start(): Promise<void> {
  const env = readEnv(process.env);
  await app.whenReady();
  denyAllPermissions(session.defaultSession);

  const dataDir = resolveDataDir({
    env,
    platform: process.platform,
    homedir: homedir(),
    cwd: process.cwd(),
  });
  const engine: DesktopEngine = openDesktopEngine({ dataDir, profile: env.CHORUS_PROFILE });
  log.info("engine opened", { dataDir, profile: engine.profileName });
  app.on("will-quit", () => engine.close());

  const entryUrl =
    env.ELECTRON_RENDERER_URL ??
    pathToFileURL(join(import.meta.dirname, "../renderer/index.html")).href;
  const preloadPath = join(import.meta.dirname, "../preload/index.cjs");
  const windows = new Set<BrowserWindow>();
  const trustedIds = new Set<number>();

  const openWindow = (): BrowserWindow => {
    const window = createMainWindow({ preloadPath, entryUrl });
    const id = window.webContents.id;
    windows.add(window);
    trustedIds.add(id);
    window.on("closed", () => {
      windows.delete(window);
      trustedIds.delete(id);
    });
    return window;
  };

  registerIpcHandlers({
    log,
    trustedRenderer: () => ({ webContentsIds: trustedIds, entryUrl }),
    handlers: {
      [IPC.getStatus]: () => engine.status(),
      [IPC.listProfiles]: () => engine.listProfiles(),
      [IPC.createProfile]: ({ name }) => engine.createProfile(name),
    },
  });

  openWindow();

  app.on("second-instance", () => {
    const [window] = windows;
    if (!window) return void openWindow();
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  app.on("activate", () => {
    if (windows.size === 0) openWindow();
  });
  app.on("window-all-closed", () => {
    if (process.platform !== "darwin") app.quit();
  });
}

if (app.requestSingleInstanceLock()) {
  start().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    log.error("Chorus could not start", { error: message });
    dialog.showErrorBox("Chorus could not start", message);
    app.exit(1);
  });
} else {
  // Another instance owns the profiles; it was told to focus its window.
  app.quit();
}
