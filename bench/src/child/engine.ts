import { PerformanceObserver } from "node:perf_hooks";
import { createProfile, DeviceEngine, memoryTokenStore } from "@chorus/desktop-sync";
import { sleep, waitUntil, wallClockMs } from "../progress.js";
import { childConfig, serveParent } from "./ipc.js";
import { traceSockets } from "./trace.js";

/**
 * One DeviceEngine of @chorus/desktop-sync in a process of its own, as a desktop runs it: its
 * event loop and its garbage collector are not shared with the load generator or the other
 * engine. The parent drives it over IPC: `edit` renames a playlist at a fixed rate and returns
 * when each edit started; `watch` / `collect` return when each edit was applied here.
 * Timestamps are wall-clock milliseconds (performance.timeOrigin + now()), comparable across
 * processes on one machine.
 */
export interface EngineChildConfig {
  dataDir: string;
  profile: string;
  syncUrl: string;
  token: string;
  userId: string;
  deviceId: string;
  /** Stamp each edit on its way through this engine's socket (child/trace.ts). */
  trace?: boolean;
}

/** The lowest Argon2id cost the protocol accepts: the bench measures sealing, not the KDF. */
const BENCH_KDF = { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 };

const EDIT_NAME = /^bench edit (\d+)$/;

const config = childConfig<EngineChildConfig>();
const tracer = config.trace ? traceSockets(`${config.profile} `) : null;
createProfile(config.dataDir, config.profile);
const engine = DeviceEngine.open({
  dataDir: config.dataDir,
  profile: config.profile,
  tokenStore: memoryTokenStore(),
  kdfCost: BENCH_KDF,
});
await engine.bindWithToken({
  syncUrl: config.syncUrl,
  token: config.token,
  userId: config.userId,
  deviceId: config.deviceId,
});
await engine.start();

/** Garbage collections while an edit series runs: count and longest pause, by kind. */
const gc = { major: 0, minor: 0, longestMs: 0, totalMs: 0 };
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
    // NODE_PERFORMANCE_GC_MAJOR = 4 (mark-sweep-compact); everything else is a scavenge or
    // incremental step.
    if (kind === 4) gc.major++;
    else gc.minor++;
    gc.longestMs = Math.max(gc.longestMs, entry.duration);
    gc.totalMs += entry.duration;
  }
});
gcObserver.observe({ entryTypes: ["gc"] });

let appliedAt = new Float64Array(0);
let seen = 0;
engine.on((event) => {
  if (event.type !== "remote-ops") return;
  const now = wallClockMs();
  for (const op of event.ops) {
    const match = typeof op.value === "string" ? EDIT_NAME.exec(op.value) : null;
    const k = match ? Number(match[1]) : -1;
    if (k < 0 || k >= appliedAt.length || !Number.isNaN(appliedAt[k] as number)) continue;
    appliedAt[k] = now;
    tracer?.stamp(`${config.profile} applied`, k, now);
    seen++;
  }
});

serveParent(
  0,
  {
    async connected(request) {
      const ok = await waitUntil(
        () => engine.diagnostics().connection === "connected",
        request.timeoutMs as number,
      );
      if (!ok) throw new Error(`${config.profile} did not connect`);
      return true;
    },
    /** First device of an encrypted account: sets the password once the key state is known. */
    async setEncryptionPassword(request) {
      await waitUntil(() => engine.encryptionStatus().account !== "unknown", 20_000);
      await engine.setEncryptionPassword(request.password as string);
      return engine.encryptionStatus().unlocked;
    },
    /** Another device: enters the password once it knows the account encrypts. */
    async unlockEncryption(request) {
      await waitUntil(() => engine.encryptionStatus().needsPassword, 20_000);
      await engine.unlockEncryption(request.password as string);
      return engine.encryptionStatus().unlocked;
    },
    /**
     * Push throughput of the drain: `edits` renames queued while the sync loop is stopped, then
     * the loop started; answers how long the queue took to empty (each op sealed first when the
     * account encrypts).
     */
    async drainBacklog(request) {
      const edits = request.edits as number;
      await engine.stop();
      for (let k = 0; k < edits; k++) {
        await engine.renamePlaylist(request.playlistId as string, `bench backlog ${k}`);
      }
      const start = performance.now();
      await engine.start();
      const drained = await waitUntil(
        () => engine.diagnostics().pendingCount === 0,
        request.timeoutMs as number,
      );
      if (!drained) throw new Error(`${config.profile} did not drain ${edits} edits in time`);
      return performance.now() - start;
    },
    async createPlaylist(request) {
      return (await engine.createPlaylist(request.name as string)).id;
    },
    async hasPlaylist(request) {
      return waitUntil(
        () => engine.playlists().some((p) => p.id === request.playlistId),
        request.timeoutMs as number,
      );
    },
    async watch(request) {
      appliedAt = new Float64Array(request.edits as number).fill(Number.NaN);
      tracer?.reset(request.edits as number);
      seen = 0;
      gc.major = gc.minor = gc.longestMs = gc.totalMs = 0;
      return true;
    },
    async collect(request) {
      await waitUntil(() => seen >= appliedAt.length, request.timeoutMs as number);
      return { appliedAt: Array.from(appliedAt), gc: { ...gc } };
    },
    async edit(request) {
      const edits = request.edits as number;
      const rate = request.rate as number;
      const editedAt: number[] = [];
      gc.major = gc.minor = gc.longestMs = gc.totalMs = 0;
      tracer?.reset(edits);
      const start = performance.now();
      for (let k = 0; k < edits; k++) {
        const wait = start + (k * 1000) / rate - performance.now();
        if (wait > 0) await sleep(wait);
        editedAt.push(wallClockMs());
        await engine.renamePlaylist(request.playlistId as string, `bench edit ${k}`);
        tracer?.stamp(`${config.profile} committed`, k);
      }
      return { editedAt, gc: { ...gc } };
    },
    async traceDump() {
      return tracer?.dump() ?? null;
    },
  },
  async () => {
    gcObserver.disconnect();
    await engine.close();
  },
);
