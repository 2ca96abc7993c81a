import {
  createProfile,
  DeviceEngine,
  isEngineError,
  listProfiles,
  memoryTokenStore,
  type SyncSession,
} from "@chorus/desktop-sync";
import type { OpInput } from "@chorus/protocol";
import type { ChildMessage, ParentMessage, RecordedOp } from "./ipc.js";

/*
 * One device of the chaos run: a real DeviceEngine (hybrid mode) on its own SQLite profile,
 * in its own process, so the harness can SIGKILL / SIGSTOP it and restart it on the same
 * file. The harness drives it over IPC: edits (chosen here from the local library with the
 * harness's random numbers), status, clock skew, stop. Tokens come from the harness on every
 * request, so it decides when they expire.
 */

const [dataDir, profile, syncUrl, userId, boundDeviceId] = process.argv.slice(2);
if (!dataDir || !profile || !syncUrl || !userId || !boundDeviceId) {
  throw new Error("usage: device-child <dataDir> <profile> <syncUrl> <userId> <deviceId>");
}

const send = (message: ChildMessage) => process.send?.(message);

// Clock skew: this process's wall clock is shifted by what the harness says (Lamport time is
// logical; wall time reaches queue ages, error timestamps and backoff bookkeeping).
const realNow = Date.now.bind(Date);
let skewMs = 0;
Date.now = () => realNow() + skewMs;

let nextTokenRequest = 1;
const tokenWaiters = new Map<number, (token: string) => void>();
/** The device id the profile is bound to (a re-bind after a revocation changes it). */
let deviceId: string = boundDeviceId;
const sessionFor = (id: string): SyncSession => ({
  syncUrl,
  userId,
  deviceId: id,
  email: null,
  webUrl: null,
  accessToken: () =>
    new Promise<string>((resolve) => {
      const request = nextTokenRequest++;
      tokenWaiters.set(request, resolve);
      send({ t: "need-token", id: request });
    }),
  tokenRejected: () => send({ t: "token-rejected" }),
});

if (!listProfiles(dataDir).some((p) => p.name === profile)) createProfile(dataDir, profile);

let recording: OpInput[] = [];
const engine = DeviceEngine.open({
  dataDir,
  profile,
  tokenStore: memoryTokenStore(),
  timing: {
    tickMs: 1_000,
    backoff: { baseMs: 100, maxMs: 1_500 },
    reconnectBackoff: { baseMs: 100, maxMs: 1_500 },
    ackDebounceMs: 100,
    requestTimeoutMs: 8_000,
  },
  hooks: { afterDomainWrite: (op) => recording.push(op) },
  log: (message, context) => {
    if (message === "sync failure" || message.includes("resync"))
      send({ t: "log", line: `${message} ${JSON.stringify(context ?? {})}` });
  },
});
engine.on((event) => {
  if (event.type === "resync" && event.progress?.phase === "done") send({ t: "resync" });
});

const NAMES = ["Morning", "Evening", "Focus", "Road trip", "Party", "Sleep"];

/** Picks an edit from the local library with the harness's random numbers r (0..1). */
async function edit(r: number[]): Promise<string> {
  const pick = <T>(items: T[], x: number): T | undefined => items[Math.floor(x * items.length)];
  const playlists = engine.playlists();
  const tracks = engine.tracks();
  const a = r[0] ?? 0;
  const name = pick(NAMES, r[1] ?? 0) ?? "Mix";
  const playlist = pick(playlists, r[2] ?? 0);
  const track = pick(tracks, r[3] ?? 0);
  const entries = playlist ? (engine.playlist(playlist.id)?.entries ?? []) : [];
  const entry = pick(entries, r[4] ?? 0);
  const other = pick(entries, r[5] ?? 0);
  if (a < 0.12 || (!playlist && tracks.length > 0 && a < 0.6) || (!playlist && !track)) {
    if (playlists.length < 8) {
      await engine.createPlaylist(`${name} ${Math.floor((r[6] ?? 0) * 100)}`);
      return "create-playlist";
    }
  }
  if (!track || a < 0.22) {
    await engine.addTrack({ title: `Track ${Math.floor((r[6] ?? 0) * 1000)}` });
    return "add-track";
  }
  if (!playlist) {
    await engine.createPlaylist(name);
    return "create-playlist";
  }
  if (a < 0.5) {
    // Same field from several devices: the names come from a small pool.
    await engine.renamePlaylist(playlist.id, name);
    return "rename-playlist";
  }
  if (a < 0.68 || !entry) {
    await engine.addEntry(playlist.id, track.id, other ? { after: other.id } : {});
    return "add-entry";
  }
  if (a < 0.86) {
    if (other && other.id !== entry.id) {
      await engine.moveEntry(
        entry.id,
        (r[7] ?? 0) < 0.5 ? { after: other.id } : { before: other.id },
      );
    } else {
      await engine.moveEntry(entry.id, {});
    }
    return "move-entry";
  }
  if (a < 0.93) {
    await engine.removeEntry(entry.id);
    return "remove-entry";
  }
  if (a < 0.97) {
    await engine.deleteTrack(track.id);
    return "delete-track";
  }
  await engine.deletePlaylist(playlist.id);
  return "delete-playlist";
}

let stopping = false;
process.on("message", (raw) => {
  const message = raw as ParentMessage;
  switch (message.t) {
    case "token": {
      const waiter = tokenWaiters.get(message.id);
      tokenWaiters.delete(message.id);
      waiter?.(message.token);
      return;
    }
    case "skew":
      skewMs = message.ms;
      return;
    case "edit": {
      if (stopping) return;
      recording = [];
      edit(message.r).then(
        (kind) => {
          const ops: RecordedOp[] = recording.map((op) => ({ ...op, deviceId }));
          recording = [];
          send({ t: "edited", id: message.id, kind, ops });
        },
        (error: unknown) => {
          recording = [];
          const code = isEngineError(error) ? error.code : "internal";
          send({
            t: "edited",
            id: message.id,
            kind: "failed",
            ops: [],
            error: `${code}: ${String(error)}`,
          });
        },
      );
      return;
    }
    case "status": {
      const d = engine.diagnostics();
      send({
        t: "status",
        id: message.id,
        pendingCount: d.pendingCount,
        cursor: d.cursor,
        connection: d.connection,
        lamport: d.lamport,
        lastError: d.lastError?.message ?? null,
        revokedAt: d.revokedAt,
      });
      return;
    }
    case "rebind": {
      // The profile bound anew under a new device id (after its device was revoked), as a
      // browser sign-in would bind it: the engine's bind keeps the library and the cursor and
      // renames the queued ops to the new id.
      deviceId = message.deviceId;
      engine.bind(sessionFor(deviceId)).then(
        () => {
          const outcome = engine.diagnostics().deviceId === deviceId ? "bound" : "not bound";
          send({ t: "rebound", id: message.id, outcome });
        },
        (error: unknown) => send({ t: "rebound", id: message.id, outcome: String(error) }),
      );
      return;
    }
    case "stop": {
      stopping = true;
      engine.close().then(
        () => {
          send({ t: "stopped", id: message.id });
          process.disconnect?.();
          process.exit(0);
        },
        (error: unknown) => {
          send({ t: "log", line: `close failed: ${String(error)}` });
          process.exit(3);
        },
      );
      return;
    }
  }
});

await engine.bind(sessionFor(deviceId));
await engine.start();
send({ t: "ready" });
