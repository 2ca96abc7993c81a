import { BrowserWindow, type Session, type WebContents } from "electron";
import { log } from "./log.js";
import { isRendererUrl } from "./sender-guard.js";

export interface MainWindowOptions {
  preloadPath: string;
  /** The dev server URL, or the file:// URL of the built index.html. */
  entryUrl: string;
}

export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const window = new BrowserWindow({
    width: 960,
    height: 680,
    minWidth: 480,
    minHeight: 360,
    title: "Chorus",
    show: false,
    webPreferences: {
      preload: options.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
    },
  });
  keepOnRenderer(window.webContents, options.entryUrl);
  window.once("ready-to-show", () => window.show());
  window.loadURL(options.entryUrl).catch((error: unknown) => {
    log.error("could not load the renderer", { entryUrl: options.entryUrl, error: String(error) });
  });
  return window;
}

/** The window only ever shows our renderer: no popups, no navigation away, no webviews. */
function keepOnRenderer(contents: WebContents, entryUrl: string): void {
  contents.setWindowOpenHandler(({ url }) => {
    log.warn("blocked a new window", { url });
    return { action: "deny" };
  });
  contents.on("will-navigate", (event) => {
    if (!isRendererUrl(event.url, entryUrl)) {
      log.warn("blocked navigation", { url: event.url });
      event.preventDefault();
    }
  });
  contents.on("will-attach-webview", (event) => event.preventDefault());
}

/** The renderer needs no camera, notifications, geolocation, ...: refuse every request. */
export function denyAllPermissions(session: Session): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    log.warn("denied a permission request", { permission });
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
}
