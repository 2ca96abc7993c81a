import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineChildConfig } from "../child/engine.js";
import { type ChildHandle, startChild } from "../children.js";
import { CHILD_ENGINE, CHILD_SYNC_SERVER, type Section } from "../context.js";
import { FanoutRig } from "../fanout-rig.js";
import { type BenchDevice, seedDevices } from "../fixtures.js";
import { createPushClient } from "../http-push.js";
import type { Progress } from "../progress.js";
import type { Figure } from "../report.js";
import { Samples } from "../stamps.js";
import { describeDistribution, type LatencyDistribution, type LatencySummary } from "../stats.js";

const RATE = 10;
const EDITS = 300;
const DRAIN_MS = 15_000;

interface GcDuring {
  major: number;
  minor: number;
  longestMs: number;
  totalMs: number;
}

export interface EngineRun {
  latency: LatencyDistribution;
  /** Garbage collection in A while it edited, and in B while it applied. */
  gc: { a: GcDuring; b: GcDuring };
}

/**
 * Two real engines (DeviceEngine, SQLite files in a temp dir, production timing) of one user,
 * each in a process of its own as a desktop runs it, through the server: a rename on A,
 * applied on B. Measured from just before A's edit to B's `remote-ops` event (emitted once the
 * op is applied in B's SQLite); both stamps are the machine's wall clock.
 */
export async function measureEngines(
  server: ChildHandle,
  devices: [BenchDevice, BenchDevice],
  progress: Progress,
  options: { encryptionPassword?: string; backlog?: number } = {},
): Promise<EngineRun & { backlogMs: number | null }> {
  const dataDir = mkdtempSync(join(tmpdir(), "chorus-bench-engines-"));
  const engines: ChildHandle[] = [];
  try {
    const syncUrl = `http://127.0.0.1:${server.port}`;
    for (const [index, device] of devices.entries()) {
      const profile = `bench-${index === 0 ? "a" : "b"}`;
      engines.push(
        await startChild(`engine ${profile}`, CHILD_ENGINE, {
          dataDir,
          profile,
          syncUrl,
          token: device.token,
          userId: device.userId,
          deviceId: device.deviceId,
        } satisfies EngineChildConfig),
      );
    }
    const [a, b] = engines as [ChildHandle, ChildHandle];
    await Promise.all(engines.map((engine) => engine.request("connected", { timeoutMs: 20_000 })));
    if (options.encryptionPassword) {
      progress.note("A sets the encryption password, B enters it");
      const password = options.encryptionPassword;
      await a.request("setEncryptionPassword", { password }, 60_000);
      await b.request("unlockEncryption", { password }, 60_000);
      await b.request("connected", { timeoutMs: 20_000 });
    }

    progress.note("engines connected (one process each); warm-up playlist from A to B");
    const id = await a.request<string>("createPlaylist", { name: "bench warm-up" });
    const warm = await b.request<boolean>("hasPlaylist", { playlistId: id, timeoutMs: 20_000 });
    if (!warm) throw new Error("the warm-up playlist did not reach engine B within 20 s");

    progress.note(`renaming on A ${RATE} times a second, ${EDITS} edits`);
    await b.request("watch", { edits: EDITS });
    const edited = await a.request<{ editedAt: number[]; gc: GcDuring }>(
      "edit",
      { playlistId: id, rate: RATE, edits: EDITS },
      (EDITS / RATE) * 1000 + 60_000,
    );
    const applied = await b.request<{ appliedAt: (number | null)[]; gc: GcDuring }>(
      "collect",
      { timeoutMs: DRAIN_MS },
      DRAIN_MS + 10_000,
    );
    const latency = new Samples(EDITS);
    for (let k = 0; k < EDITS; k++) {
      // NaN does not survive IPC's JSON: a missing receipt arrives as null.
      const at = applied.appliedAt[k];
      if (typeof at === "number") latency.add(at - (edited.editedAt[k] as number));
    }
    let backlogMs: number | null = null;
    if (options.backlog) {
      progress.note(`A queues ${options.backlog} renames offline, then drains them`);
      backlogMs = await a.request<number>(
        "drainBacklog",
        { playlistId: id, edits: options.backlog, timeoutMs: 120_000 },
        180_000,
      );
    }
    return {
      latency: latency.distribution(),
      gc: { a: edited.gc, b: applied.gc },
      backlogMs,
    };
  } finally {
    await Promise.allSettled(engines.map((engine) => engine.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The baseline: the same round trip with bare clients (HTTP push, one raw tRPC socket). */
async function measureBare(
  server: ChildHandle,
  devices: [BenchDevice, BenchDevice],
  progress: Progress,
): Promise<LatencySummary> {
  const [pusher, subscriber] = devices;
  const client = createPushClient(server.port, 1);
  let rig: FanoutRig | undefined;
  try {
    rig = await FanoutRig.connect(
      [{ label: "bare", url: `ws://127.0.0.1:${server.port}/trpc`, devices: [subscriber] }],
      EDITS,
      progress,
    );
    await rig.warmUp(client, [pusher], progress);
    await rig.pushAtRate(
      client,
      [pusher],
      { rate: RATE, count: EDITS, expectedDeliveries: EDITS, drainMs: DRAIN_MS },
      progress,
    );
    const group = rig.groups[0];
    if (!group) throw new Error("no subscriber group");
    return group.send.summary();
  } finally {
    rig?.close();
    client.close();
  }
}

export const engineLatency: Section = {
  number: 5,
  title: "Engine-to-engine latency",
  budgetMs: 120_000,
  async run(context, progress) {
    const [devices] = await seedDevices(context.pool, context.key, 1, 4);
    if (!devices || devices.length < 4) throw new Error("no devices seeded");
    const server = await startChild("sync-server", CHILD_SYNC_SERVER, {
      databaseUrl: context.databaseUrl,
      jwks: context.jwks,
    });
    let run: EngineRun;
    let bare: LatencySummary;
    try {
      run = await measureEngines(
        server,
        [devices[0], devices[1]] as [BenchDevice, BenchDevice],
        progress,
      );
      bare = await measureBare(
        server,
        [devices[2], devices[3]] as [BenchDevice, BenchDevice],
        progress,
      );
    } finally {
      await server.stop();
    }
    const engines = run.latency;
    const gc = (g: GcDuring) =>
      `${g.major} major and ${g.minor} minor collections, longest pause ${g.longestMs.toFixed(1)} ms, ${g.totalMs.toFixed(0)} ms in all`;
    const figures: Figure[] = [
      {
        name: "engine-to-engine p50 (edit on A -> applied on B)",
        unit: "ms",
        value: engines.p50,
        baselineName: "bare push -> socket receipt",
        baseline: bare.p50,
        better: "lower",
      },
      {
        name: "engine-to-engine p99",
        unit: "ms",
        value: engines.p99,
        baselineName: "bare push -> socket receipt",
        baseline: bare.p99,
        better: "lower",
        target: { on: "figure", kind: "max", value: 30 },
      },
      {
        name: "engine-to-engine max",
        unit: "ms",
        value: engines.max,
        baselineName: "bare push -> socket receipt",
        baseline: bare.max,
        better: "lower",
        target: { on: "figure", kind: "max", value: 100 },
      },
    ];
    return {
      figures,
      notes: [
        `Two DeviceEngines of @chorus/desktop-sync (SQLite profiles in a temp dir, Hybrid mode, production timing: drain woken by each commit, subscription over wsLink) of one user, each in a process of its own as a desktop runs it (src/child/engine.ts), bound with device tokens to the real server in its own process. A renames a playlist ${RATE} times a second (${EDITS} edits); each latency runs from just before A's edit to B's \`remote-ops\` event for it (applied in B's SQLite), both stamped with the machine's wall clock. ${engines.count} of ${EDITS} edits seen on B.`,
        `Distribution: ${describeDistribution(engines)}.`,
        `Garbage collection while measuring: engine A ${gc(run.gc.a)}; engine B ${gc(run.gc.b)}.`,
        `Baseline: the same server round trip without engines — a bare HTTP push of one op by a third device (stamped when sent) and a raw tRPC socket of a fourth device receiving it, ${RATE}/s, ${EDITS} pushes: ${bare.count} deliveries, max ${bare.max.toFixed(1)} ms. The ratio is what the engines add (SQLite transactions, queue, drain, typed client, apply).`,
      ],
    };
  },
};
