import { IPC } from "../shared/ipc-channels.js";
import type { PushReport } from "../shared/ipc-schemas.js";
import type { EngineHost } from "./engine.js";
import type { IpcHandlers } from "./ipc-dispatch.js";

/**
 * What each bridge call does, shared by Electron's IPC and the dev harness's HTTP server.
 * Payloads arrive already validated (ipc-dispatch.ts).
 */
export function createHandlers(host: EngineHost): IpcHandlers {
  const engine = () => host.engine;
  return {
    [IPC.getStatus]: () => host.status(),
    [IPC.listProfiles]: () => host.listProfiles(),
    [IPC.createProfile]: ({ name }) => host.createProfile(name),
    [IPC.switchProfile]: async ({ name }) => {
      await host.switchProfile(name);
      return host.status();
    },
    [IPC.getDiagnostics]: () => engine().diagnostics(),
    [IPC.pushNow]: async (): Promise<PushReport> => {
      const outcome = await engine().pushNow();
      const diagnostics = engine().diagnostics();
      if (outcome === null) return { outcome: "not_syncing", pushed: 0, diagnostics };
      if (outcome.status === "failed") {
        return {
          outcome: "failed",
          pushed: outcome.pushed,
          failure: outcome.failure.kind,
          diagnostics,
        };
      }
      return outcome.pushed > 0
        ? { outcome: "uploaded", pushed: outcome.pushed, diagnostics }
        : { outcome: "up_to_date", pushed: 0, diagnostics };
    },
    [IPC.clearLastError]: () => {
      engine().clearLastError();
      return engine().diagnostics();
    },
    [IPC.getSettings]: () => host.settings(),
    [IPC.setMode]: async ({ mode }) => {
      await engine().setMode(mode);
      return host.settings();
    },
    [IPC.signIn]: ({ webUrl, deviceName }) => host.signInWithBrowser(webUrl, deviceName),
    [IPC.cancelSignIn]: () => host.cancelSignIn(),
    [IPC.signOut]: async () => {
      await engine().signOut();
      return host.settings();
    },
    [IPC.listPlaylists]: () => engine().playlists(),
    [IPC.getPlaylist]: ({ id }) => engine().playlist(id),
    [IPC.listTracks]: () => engine().tracks(),
    [IPC.createPlaylist]: ({ name }) => engine().createPlaylist(name),
    [IPC.renamePlaylist]: ({ id, name }) => engine().renamePlaylist(id, name),
    [IPC.deletePlaylist]: ({ id }) => engine().deletePlaylist(id),
    [IPC.addTrack]: (track) => engine().addTrack(track),
    [IPC.deleteTrack]: ({ id }) => engine().deleteTrack(id),
    [IPC.trackUsage]: ({ id }) => ({ playlists: host.playlistsHoldingTrack(id) }),
    [IPC.addEntry]: async ({ playlistId, trackId, after, before }) =>
      engine().addEntry(playlistId, trackId, {
        ...(after ? { after } : {}),
        ...(before ? { before } : {}),
      }),
    [IPC.moveEntry]: ({ entryId, after, before }) =>
      engine().moveEntry(entryId, { ...(after ? { after } : {}), ...(before ? { before } : {}) }),
    [IPC.removeEntry]: ({ entryId }) => engine().removeEntry(entryId),
  };
}
