import { readFileSync } from "node:fs";
import { createProfile, DeviceEngine, memoryTokenStore } from "@chorus/desktop-sync";
import { processCpuMs } from "../process-cpu.js";
import { waitUntil } from "../progress.js";
import { childConfig, serveParent } from "./ipc.js";

/**
 * One DeviceEngine of @chorus/desktop-sync on a fresh profile, in a process of its own so that
 * its peak memory is its own: `resync` runs the engine's full resync (engine.resync(): the
 * streaming full pull into a staging table, then the fold in one transaction, then the
 * convergence audit it always runs after a rebuild) and answers how long each phase took and
 * the process's peak RSS.
 */
export interface ResyncChildConfig {
  dataDir: string;
  profile: string;
  syncUrl: string;
  token: string;
  userId: string;
  deviceId: string;
  /** The sync server child's pid: its CPU is read from /proc at the resync's phase changes. */
  serverPid?: number;
}

export interface ResyncAnswer {
  ops: number;
  /** From the call to the first `applying` progress event: every page pulled and staged. */
  pullMs: number;
  /** From there to the `done` event: the fold committed. */
  foldMs: number;
  /** From the call to `done`: the figure. */
  totalMs: number;
  /** From `done` to engine.resync() resolving: the convergence audit after the rebuild. */
  auditMs: number;
  auditOutcome: string;
  /** Peak resident set (VmHWM) in bytes: before the resync, at `done`, after the audit. */
  peakBefore: number;
  peakAtDone: number;
  peakAfter: number;
  /** process.resourceUsage().maxRSS at the end, in bytes (the same peak, as Node reads it). */
  maxRss: number;
  rssAfter: number;
  /** CPU time (user + system) of this process from the call to `done`, in ms. */
  cpuMs: number;
  /** CPU time of the same process from the call to the first `applying` event, in ms. */
  cpuPullMs: number;
  /**
   * CPU time (user + system, /proc/<pid>/stat, 10 ms ticks) of the sync server child from the
   * call to the first `applying` event (serving the pages) and from there to `done`, in ms;
   * NaN when its pid was not given.
   */
  serverCpuPullMs: number;
  serverCpuFoldMs: number;
  /** Rows of the app's tables after the rebuild (the fold really wrote them). */
  tracks: number;
  cursor: number;
}

/** Peak resident set size of this process so far (Linux VmHWM), in bytes. */
function peakRss(): number {
  const status = readFileSync("/proc/self/status", "utf8");
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

/** CPU time (user + system) of the sync server child so far, in ms; NaN when it is not known. */
const serverCpuMs = (pid: number | undefined): number =>
  (pid === undefined ? null : processCpuMs(pid)) ?? Number.NaN;

const config = childConfig<ResyncChildConfig>();
createProfile(config.dataDir, config.profile);
const engine = DeviceEngine.open({
  dataDir: config.dataDir,
  profile: config.profile,
  tokenStore: memoryTokenStore(),
});
await engine.bindWithToken({
  syncUrl: config.syncUrl,
  token: config.token,
  userId: config.userId,
  deviceId: config.deviceId,
});
await engine.start();

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
    async resync(): Promise<ResyncAnswer> {
      const peakBefore = peakRss();
      const cpuBefore = process.cpuUsage();
      let cpuAtDone = Number.NaN;
      let cpuAtApplying = Number.NaN;
      const serverBefore = serverCpuMs(config.serverPid);
      let serverAtApplying = Number.NaN;
      let serverAtDone = Number.NaN;
      const started = performance.now();
      let applyingAt = Number.NaN;
      let doneAt = Number.NaN;
      let peakAtDone = Number.NaN;
      let ops = 0;
      const unsubscribe = engine.on((event) => {
        if (event.type !== "resync" || !event.progress) return;
        if (event.progress.phase === "applying" && Number.isNaN(applyingAt)) {
          applyingAt = performance.now();
          const cpu = process.cpuUsage(cpuBefore);
          cpuAtApplying = (cpu.user + cpu.system) / 1000;
          serverAtApplying = serverCpuMs(config.serverPid);
        }
        if (event.progress.phase === "done") {
          doneAt = performance.now();
          const cpu = process.cpuUsage(cpuBefore);
          cpuAtDone = (cpu.user + cpu.system) / 1000;
          peakAtDone = peakRss();
          serverAtDone = serverCpuMs(config.serverPid);
          ops = event.progress.done;
        }
      });
      let auditOutcome: string;
      try {
        const { audit } = await engine.resync();
        auditOutcome = JSON.stringify(audit).slice(0, 200);
      } catch (error) {
        // The rebuild may have committed and the audit after it failed: the figures say which.
        if (Number.isNaN(doneAt)) throw error;
        // The causes say what "fetch failed" was (a reset, a timeout, a refused connection).
        const causes: string[] = [];
        for (let e = (error as Error).cause; e instanceof Error; e = e.cause) {
          causes.push(`${e.name}${"code" in e ? ` ${String(e.code)}` : ""}: ${e.message}`);
        }
        auditOutcome = `failed: ${(error as Error).message}${causes.length ? ` (${causes.join("; ")})` : ""}`;
      } finally {
        unsubscribe();
      }
      const finished = performance.now();
      const tracks = engine.read(
        (db) => (db.prepare("SELECT count(*) AS n FROM tracks").get() as { n: number }).n,
      );
      return {
        ops,
        pullMs: applyingAt - started,
        foldMs: doneAt - applyingAt,
        totalMs: doneAt - started,
        cpuMs: cpuAtDone,
        cpuPullMs: cpuAtApplying,
        serverCpuPullMs: serverAtApplying - serverBefore,
        serverCpuFoldMs: serverAtDone - serverAtApplying,
        auditMs: finished - doneAt,
        auditOutcome,
        peakBefore,
        peakAtDone,
        peakAfter: peakRss(),
        maxRss: process.resourceUsage().maxRSS * 1024,
        rssAfter: process.memoryUsage().rss,
        tracks,
        cursor: engine.diagnostics().cursor,
      };
    },
  },
  async () => {
    await engine.close();
  },
);
