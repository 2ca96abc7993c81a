import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { resolveDataDir } from "@chorus/desktop-sync";
import { app, type BrowserWindow, dialog, session, shell } from "electron";
import { EngineHost } from "./engine.js";
import { readEnv } from "./env.js";
import { createHandlers } from "./handlers.js";
import { registerIpcHandlers } from "./ipc.js";
import { log } from "./log.js";
import { safeStorageKeyStore, safeStorageTokenStore } from "./safe-token-store.js";
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
  const host = await EngineHost.open({
    dataDir,
    profile: env.CHORUS_PROFILE,
    tokenStore: safeStorageTokenStore,
    keyStore: safeStorageKeyStore,
    // Only the web app's sign-in page, and only over http(s), leaves for the system browser.
    openUrl: (url) => {
      if (!/^https?:\/\//.test(url)) throw new Error(`refused to open ${url}`);
      return shell.openExternal(url);
    },
    defaultWebUrl: env.CHORUS_WEB_URL,
    platform: process.platform,
    appVersion: app.getVersion(),
    hostName: hostname(),
    log: (message, context) => log.info(message, context),
  });
  log.info("engine opened", { dataDir, profile: host.engine.profileName });
  let closing = false;
  app.on("will-quit", (event) => {
    if (closing) return;
    // Let the engine flush its last ACK and close the profile file before exiting.
    event.preventDefault();
    closing = true;
    void host.close().finally(() => app.quit());
  });

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
    handlers: createHandlers(host),
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
