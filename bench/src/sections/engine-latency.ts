import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createProfile, DeviceEngine, memoryTokenStore } from "@chorus/desktop-sync";
import { type ChildHandle, startChild } from "../children.js";
import { CHILD_SYNC_SERVER, type Section } from "../context.js";
import { FanoutRig } from "../fanout-rig.js";
import { type BenchDevice, seedDevices } from "../fixtures.js";
import { createPushClient } from "../http-push.js";
import { type Progress, sleep, waitUntil, wallClockMs } from "../progress.js";
import type { Figure } from "../report.js";
import { Samples } from "../stamps.js";
import type { LatencySummary } from "../stats.js";

const RATE = 10;
const EDITS = 150;
const DRAIN_MS = 15_000;
const EDIT_NAME = /^bench edit (\d+)$/;

/**
 * Two real engines (DeviceEngine, SQLite files in a temp dir, production timing) of one user
 * through the server: a rename on A, applied on B. Measured from just before A's edit to B's
 * `remote-ops` event (emitted once the op is applied in B's SQLite).
 */
async function measureEngines(
  server: ChildHandle,
  devices: [BenchDevice, BenchDevice],
  progress: Progress,
): Promise<LatencySummary> {
  const dataDir = mkdtempSync(join(tmpdir(), "chorus-bench-engines-"));
  const engines: DeviceEngine[] = [];
  try {
    const syncUrl = `http://127.0.0.1:${server.port}`;
    for (const [index, device] of devices.entries()) {
      const profile = `bench-${index === 0 ? "a" : "b"}`;
      createProfile(dataDir, profile);
      const engine = DeviceEngine.open({ dataDir, profile, tokenStore: memoryTokenStore() });
      engines.push(engine);
      await engine.bindWithToken({
        syncUrl,
        token: device.token,
        userId: device.userId,
        deviceId: device.deviceId,
      });
      await engine.start();
    }
    const [a, b] = engines as [DeviceEngine, DeviceEngine];
    const connected = await waitUntil(
      () => engines.every((engine) => engine.diagnostics().connection === "connected"),
      20_000,
    );
    if (!connected) throw new Error("the two engines did not connect within 20 s");

    const editedAt = new Float64Array(EDITS).fill(Number.NaN);
    const latency = new Samples(EDITS);
    const seen = new Uint8Array(EDITS);
    const stopListening = b.on((event) => {
      if (event.type !== "remote-ops") return;
      const appliedAt = wallClockMs();
      for (const op of event.ops) {
        const match = typeof op.value === "string" ? EDIT_NAME.exec(op.value) : null;
        const k = match ? Number(match[1]) : -1;
        if (k < 0 || k >= EDITS || seen[k]) continue;
        seen[k] = 1;
        latency.add(appliedAt - (editedAt[k] as number));
      }
    });
    try {
      progress.note("engines connected; warm-up playlist from A to B");
      const { id } = await a.createPlaylist("bench warm-up");
      const warm = await waitUntil(() => b.playlists().some((p) => p.id === id), 20_000);
      if (!warm) throw new Error("the warm-up playlist did not reach engine B within 20 s");

      progress.note(`renaming on A ${RATE} times a second, ${EDITS} edits`);
      const stop = progress.every(2_000, () => `${latency.count} of ${EDITS} edits applied on B`);
      try {
        const start = performance.now();
        for (let k = 0; k < EDITS; k++) {
          const wait = start + (k * 1000) / RATE - performance.now();
          if (wait > 0) await sleep(wait);
          editedAt[k] = wallClockMs();
          await a.renamePlaylist(id, `bench edit ${k}`);
        }
        await waitUntil(() => latency.count >= EDITS, DRAIN_MS);
      } finally {
        stop();
      }
    } finally {
      stopListening();
    }
    return latency.summary();
  } finally {
    await Promise.allSettled(engines.map((engine) => engine.close()));
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
    let engines: LatencySummary;
    let bare: LatencySummary;
    try {
      engines = await measureEngines(
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
      },
    ];
    return {
      figures,
      notes: [
        `Two DeviceEngines of @chorus/desktop-sync (SQLite profiles in a temp dir, Hybrid mode, production timing: drain woken by each commit, subscription over wsLink) of one user, both in the bench process, bound with device tokens to the real server in its own process. A renames a playlist ${RATE} times a second (${EDITS} edits); each latency runs from just before A's edit to B's \`remote-ops\` event for it (applied in B's SQLite). ${engines.count} of ${EDITS} edits seen on B; max ${engines.max.toFixed(1)} ms.`,
        `Baseline: the same server round trip without engines — a bare HTTP push of one op by a third device (stamped when sent) and a raw tRPC socket of a fourth device receiving it, ${RATE}/s, ${EDITS} pushes: ${bare.count} deliveries, max ${bare.max.toFixed(1)} ms. The ratio is what the engines add (SQLite transactions, queue, drain, typed client, apply).`,
      ],
    };
  },
};
