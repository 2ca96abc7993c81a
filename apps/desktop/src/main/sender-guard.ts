/**
 * Who may call main over IPC: only the top frame of one of our own windows, showing our
 * own renderer. A compromised or navigated page, an iframe, or a window we did not create
 * is refused before any payload is read.
 */
export interface SenderFacts {
  webContentsId: number;
  /** The URL of the frame that sent the message; undefined when that frame is gone. */
  frameUrl: string | undefined;
  isMainFrame: boolean;
}

export interface TrustedRenderer {
  /** webContents ids of the windows main created. */
  webContentsIds: ReadonlySet<number>;
  /** Where our renderer is served from: the dev server URL or the built index.html. */
  entryUrl: string;
}

export type SenderVerdict = { trusted: true } | { trusted: false; reason: string };

export function judgeSender(sender: SenderFacts, trusted: TrustedRenderer): SenderVerdict {
  if (!trusted.webContentsIds.has(sender.webContentsId)) {
    return { trusted: false, reason: `webContents ${sender.webContentsId} is not a Chorus window` };
  }
  if (!sender.isMainFrame) {
    return { trusted: false, reason: "sent from a subframe" };
  }
  if (sender.frameUrl === undefined || !isRendererUrl(sender.frameUrl, trusted.entryUrl)) {
    return {
      trusted: false,
      reason: `frame at ${sender.frameUrl ?? "(gone)"} is not the renderer`,
    };
  }
  return { trusted: true };
}

/**
 * Same origin for a served renderer. For file:// every file has the opaque origin "null",
 * so the built renderer is matched by its exact path instead.
 */
export function isRendererUrl(candidate: string, entryUrl: string): boolean {
  const url = URL.parse(candidate);
  const entry = URL.parse(entryUrl);
  if (!url || !entry) return false;
  if (entry.protocol === "file:") {
    return url.protocol === "file:" && url.host === entry.host && url.pathname === entry.pathname;
  }
  return url.origin === entry.origin;
}
