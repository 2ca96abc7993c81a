import { startChild } from "../children.js";
import { CHILD_SYNC_SERVER, type Section } from "../context.js";
import { type BenchDevice, seedDevices } from "../fixtures.js";
import type { Figure } from "../report.js";
import { describeDistribution } from "../stats.js";
import { measureEngines } from "./engine-latency.js";

const BACKLOG = 2_000;

/**
 * What end-to-end encryption costs the engines (ADR 0018): the engine-to-engine round trip of
 * section 5 and the drain's push throughput, each with the account encrypting beside the same
 * run in clear. Two accounts, each with two engines in processes of their own, on one server.
 */
export const encryptionCost: Section = {
  number: 9,
  title: "Encryption on beside off",
  budgetMs: 300_000,
  async run(context, progress) {
    const [clear, sealed] = await seedDevices(context.pool, context.key, 2, 2);
    if (!clear || !sealed || clear.length < 2 || sealed.length < 2) {
      throw new Error("no devices seeded");
    }
    const server = await startChild("sync-server", CHILD_SYNC_SERVER, {
      databaseUrl: context.databaseUrl,
      jwks: context.jwks,
    });
    try {
      progress.note("account in clear");
      const off = await measureEngines(server, clear as [BenchDevice, BenchDevice], progress, {
        backlog: BACKLOG,
      });
      progress.note("encrypted account");
      const on = await measureEngines(server, sealed as [BenchDevice, BenchDevice], progress, {
        backlog: BACKLOG,
        encryptionPassword: "bench encryption password",
      });
      const rate = (ms: number | null) => (ms ? (BACKLOG / ms) * 1000 : 0);
      const figures: Figure[] = [
        {
          name: "engine-to-engine p50, encrypted",
          unit: "ms",
          value: on.latency.p50,
          baselineName: "in clear",
          baseline: off.latency.p50,
          better: "lower",
        },
        {
          name: "engine-to-engine p99, encrypted",
          unit: "ms",
          value: on.latency.p99,
          baselineName: "in clear",
          baseline: off.latency.p99,
          better: "lower",
        },
        {
          name: `drain of ${BACKLOG} queued edits, encrypted`,
          unit: "ops/s",
          value: rate(on.backlogMs),
          baselineName: "in clear",
          baseline: rate(off.backlogMs),
          better: "higher",
        },
      ];
      return {
        figures,
        notes: [
          `Section 5's set-up twice on one server: two DeviceEngines per account, each in a process of its own (src/child/engine.ts), one account in clear and one whose first engine set the encryption password and whose second entered it (Argon2id at the lowest cost the protocol accepts: the KDF runs once and is not what is measured). Latency: A renames a playlist 10 times a second, 300 edits, from just before the edit to B's \`remote-ops\` event; encrypted, A seals each value before the push and B opens it before the fold (XChaCha20-Poly1305, pure JS).`,
          `In clear: ${describeDistribution(off.latency)}. Encrypted: ${describeDistribution(on.latency)}.`,
          `Drain: A stops its sync loop, queues ${BACKLOG} renames, starts the loop and is timed until its queue is empty (batches of the protocol's limits, each op sealed first when encrypted and the batch measured sealed): ${off.backlogMs?.toFixed(0)} ms in clear, ${on.backlogMs?.toFixed(0)} ms encrypted.`,
        ],
      };
    } finally {
      await server.stop();
    }
  },
};
