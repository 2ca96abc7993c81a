import type { ChildHandle } from "./children.js";
import type { BenchDevice } from "./fixtures.js";
import type { Progress } from "./progress.js";
import { percentile } from "./stats.js";

/**
 * Long enough for V8 to have optimised the server's and the client's hot paths and for every
 * pooled connection to have run the push once: a cold server (first seconds after start) ran
 * at about 60% of its warm rate, and a sync server runs for days.
 */
export const WARMUP_MS = 5_000;
/** One measured round of one variant. */
export const ROUND_MS = 5_000;
/**
 * Rounds per variant, interleaved (figure, baseline, figure, baseline, ...): this machine's
 * speed drifts by up to 2x between minutes (a shared host), so each figure and its baseline
 * are measured under the same conditions and each is the median of its rounds.
 */
export const ROUNDS = 3;
/** A bound on pushes per device per round, whatever the speed. */
const MAX_PUSHES_PER_DEVICE = 200_000;

export interface LoopVariant {
  label: string;
  devices: BenchDevice[];
  /** Ops per push. */
  batch: number;
  push(device: BenchDevice, index: number): Promise<void>;
  /** The server child whose CPU is read, when the variant goes through one. */
  server?: ChildHandle;
}

export interface LoopResult {
  /** The median round's ops per second. */
  opsPerSecond: number;
  /** Every round's ops per second, in the order measured. */
  rounds: number[];
  /** CPU time per push in the median round: of the server child (when given) and of this process. */
  cpuMsPerPush: { server: number; bench: number };
}

/** Every device pushes batch after batch (closed loop) for `durationMs`; counts ops stored. */
async function loop(variant: LoopVariant, durationMs: number, onOps?: (ops: number) => void) {
  let ops = 0;
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    variant.devices.map(async (device, index) => {
      for (let i = 0; i < MAX_PUSHES_PER_DEVICE && performance.now() < end; i++) {
        await variant.push(device, index);
        ops += variant.batch;
        onOps?.(ops);
      }
    }),
  );
  return { ops, elapsedMs: performance.now() - started };
}

async function measuredRound(variant: LoopVariant, progress: Progress) {
  let ops = 0;
  const stop = progress.every(
    1_000,
    () => `${variant.label}: ${ops.toLocaleString("en-US")} ops stored`,
  );
  try {
    const serverBefore = variant.server ? await variant.server.cpu() : null;
    const benchBefore = process.cpuUsage();
    const measured = await loop(variant, ROUND_MS, (n) => {
      ops = n;
    });
    const bench = process.cpuUsage(benchBefore);
    const serverAfter = variant.server ? await variant.server.cpu() : null;
    const pushes = measured.ops / variant.batch;
    const msOf = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000 / pushes;
    return {
      opsPerSecond: (measured.ops * 1000) / measured.elapsedMs,
      cpuMsPerPush: {
        server:
          serverBefore && serverAfter
            ? msOf({
                user: serverAfter.user - serverBefore.user,
                system: serverAfter.system - serverBefore.system,
              })
            : Number.NaN,
        bench: msOf(bench),
      },
    };
  } finally {
    stop();
  }
}

/**
 * Warms every variant up (not counted), then measures ROUNDS rounds of each, interleaved, and
 * gives each variant's median round.
 */
export async function compareInRounds(
  variants: LoopVariant[],
  progress: Progress,
): Promise<LoopResult[]> {
  for (const variant of variants) {
    progress.note(`${variant.label}: warm-up ${WARMUP_MS / 1000} s`);
    await loop(variant, WARMUP_MS);
  }
  const rounds = variants.map(() => [] as Awaited<ReturnType<typeof measuredRound>>[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [v, variant] of variants.entries()) {
      rounds[v]?.push(await measuredRound(variant, progress));
    }
  }
  return rounds.map((measured) => {
    const rates = measured.map((r) => r.opsPerSecond);
    const middle = percentile(rates, 50); // nearest rank: one of the rounds
    const chosen =
      measured.find((r) => r.opsPerSecond === middle) ?? (measured[0] as (typeof measured)[0]);
    return { opsPerSecond: middle, rounds: rates, cpuMsPerPush: chosen.cpuMsPerPush };
  });
}

/** "4818, 5897, 6250": a variant's rounds in ops/s, in the order measured, for the notes. */
export function roundsOf(result: LoopResult): string {
  return result.rounds.map(Math.round).join(", ");
}
