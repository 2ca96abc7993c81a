import { SYNC_SERVER_ENV, SYNC_SERVER_NODE_FLAGS } from "@chorus/sync-server/node-flags";
import { type ChildHandle, type MemorySample, startChild } from "../children.js";
import { type BenchContext, CHILD_RAW_WS, CHILD_SYNC_SERVER, type Section } from "../context.js";
import { seedDevices } from "../fixtures.js";
import { inWaves, type Progress, sleep, wallClockMs } from "../progress.js";
import type { Figure } from "../report.js";
import { connectRawSocket, connectTrpcSocket } from "../trpc-socket.js";

const SOCKETS = 10_000;
const DEVICES_PER_USER = 4;
const CONNECT_CONCURRENCY = 200;
const SETTLE_MS = 2_000;
/** Both processes (bench clients, server) hold one descriptor per socket, plus their own. */
const FILES_NEEDED = SOCKETS + 500;
const KIB = 1024;

/** Also sampled on the way (forced GCs included), for where the memory goes as sockets add up. */
const CHECKPOINT = 2_500;

interface Delta {
  rssPerSocket: number;
  /** The same from RSS read at once after the GCs (how samples were taken before ADR 0044). */
  rssAtOncePerSocket: number;
  heapPerSocket: number;
  before: MemorySample;
  /** At CHECKPOINT sockets. */
  midway: MemorySample;
  after: MemorySample;
  sockets: number;
}

function delta(
  before: MemorySample,
  midway: MemorySample,
  after: MemorySample,
  sockets: number,
): Delta {
  return {
    rssPerSocket: (after.rss - before.rss) / sockets / KIB,
    rssAtOncePerSocket: (after.rssAtOnce - before.rssAtOnce) / sockets / KIB,
    heapPerSocket:
      (after.heapUsed + after.external - before.heapUsed - before.external) / sockets / KIB,
    before,
    midway,
    after,
    sockets,
  };
}

const mibOf = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

/**
 * Where the server's RSS is at 0, CHECKPOINT and all sockets: the V8 old space (committed, of
 * which live), its young generation, the anonymous memory outside the V8 heap (malloc arenas,
 * ws's and Node's native parts, stacks) and mapped files; and the cost of the sockets past the
 * checkpoint alone, which leaves out what the server allocates once (code, arenas grown once).
 */
function breakdown(label: string, d: Delta): string {
  const at = (sample: MemorySample, sockets: number) =>
    `${sockets.toLocaleString("en-US")} sockets: RSS ${mibOf(sample.rss)} MiB = old space ${mibOf(sample.oldSpaceCommitted)} committed (${mibOf(sample.oldSpaceUsed)} live) + young ${mibOf(sample.newSpaceCommitted)} + other V8 ${mibOf(sample.heapTotal - sample.oldSpaceCommitted - sample.newSpaceCommitted)} + outside the V8 heap ${mibOf(sample.rssAnon - sample.heapTotal)} + files ${mibOf(sample.rssFile)}`;
  const marginal = (d.after.rss - d.midway.rss) / (d.sockets - CHECKPOINT) / KIB;
  return `${label}, after two forced GCs at ${at(d.before, 0)}; ${at(d.midway, CHECKPOINT)}; ${at(d.after, d.sockets)}. Sockets ${(CHECKPOINT + 1).toLocaleString("en-US")} to ${d.sockets.toLocaleString("en-US")} alone: ${marginal.toFixed(1)} KiB of RSS each.`;
}

async function hold(
  server: ChildHandle,
  progress: Progress,
  label: string,
  connect: (index: number) => Promise<{ terminate(): void }>,
): Promise<Delta> {
  const before = await server.memory();
  let opened = 0;
  const stop = progress.every(
    2_000,
    () => `${label}: ${opened.toLocaleString("en-US")} sockets open`,
  );
  const sockets: { terminate(): void }[] = [];
  const open = async (from: number, to: number) => {
    await inWaves(Array.from({ length: to - from }), CONNECT_CONCURRENCY, async (_, index) => {
      sockets.push(await connect(from + index));
      opened++;
    });
    progress.note(`${label}: ${opened.toLocaleString("en-US")} sockets open and idle; settling`);
    await sleep(SETTLE_MS);
    return server.memory();
  };
  try {
    const midway = await open(0, CHECKPOINT);
    const after = await open(CHECKPOINT, SOCKETS);
    stop();
    return delta(before, midway, after, opened);
  } finally {
    stop();
    for (const socket of sockets) socket.terminate();
  }
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

export const idleMemory: Section = {
  number: 3,
  title: "Memory per idle socket at 10,000 sockets",
  budgetMs: 180_000,
  async run(context: BenchContext, progress) {
    if (context.openFilesLimit !== null && context.openFilesLimit < FILES_NEEDED) {
      return {
        figures: [],
        notes: [],
        notMeasured: `ulimit -n is ${context.openFilesLimit}; ${FILES_NEEDED} open files are needed (npm run bench raises it to 20000 when the hard limit allows)`,
      };
    }
    progress.note(`seeding ${SOCKETS.toLocaleString("en-US")} devices and their tokens`);
    const devices = (
      await seedDevices(context.pool, context.key, SOCKETS / DEVICES_PER_USER, DEVICES_PER_USER)
    ).flat();

    const server = await startChild("sync-server", CHILD_SYNC_SERVER, {
      databaseUrl: context.databaseUrl,
      jwks: context.jwks,
    });
    let sync: Delta;
    try {
      const url = `ws://127.0.0.1:${server.port}/trpc`;
      sync = await hold(server, progress, "sync server", async (index) => {
        const device = devices[index];
        if (!device) throw new Error("fewer devices than sockets");
        const socket = await connectTrpcSocket(url, device.token, wallClockMs, 60_000);
        await socket.subscribe("sync.subscribe", { lastEventId: 0 }, () => {}, 60_000);
        return socket;
      });
    } finally {
      await server.stop();
    }

    const raw = await startChild("raw-ws", CHILD_RAW_WS, { maxPayload: 1024 * 1024 });
    let bare: Delta;
    try {
      const url = `ws://127.0.0.1:${raw.port}`;
      bare = await hold(raw, progress, "bare ws", () =>
        connectRawSocket(url, () => {}, wallClockMs, 60_000),
      );
    } finally {
      await raw.stop();
    }

    const figures: Figure[] = [
      {
        name: "server RSS per idle subscribed socket, 10,000 sockets",
        unit: "KiB",
        value: sync.rssPerSocket,
        baselineName: "bare ws server",
        baseline: bare.rssPerSocket,
        better: "lower",
        target: { on: "figure", kind: "max", value: 15 },
      },
      {
        name: "server heap+external per idle subscribed socket",
        unit: "KiB",
        value: sync.heapPerSocket,
        baselineName: "bare ws server",
        baseline: bare.heapPerSocket,
        better: "lower",
      },
    ];
    return {
      figures,
      notes: [
        `${sync.sockets.toLocaleString("en-US")} device sockets (${SOCKETS / DEVICES_PER_USER} users x ${DEVICES_PER_USER} devices), each authenticated with its token (connectionParams) and holding one live \`sync.subscribe\` — a connected desktop at rest — on the real server in its own process; then the same number of sockets on a bare \`ws\` server in its own process.`,
        `Memory is sampled in the server process after two forced GCs, once its RSS has stopped moving (V8 sweeps and hands emptied pages back on background threads after gc() returns: read at once, RSS still moved by up to 28 MiB), before the first socket, ${SETTLE_MS / 1000} s after the ${CHECKPOINT.toLocaleString("en-US")}th and ${SETTLE_MS / 1000} s after the last; per socket = delta / sockets (everything the server allocated for them, once-only costs included). The target applies to RSS. The sync server runs with the V8 flags and the allocator settings it is started with in production (${SYNC_SERVER_NODE_FLAGS.join(" ")}; ${Object.entries(
          SYNC_SERVER_ENV,
        )
          .map(([name, value]) => `${name}=${value}`)
          .join(" ")}; apps/sync-server/src/node-flags.ts).`,
        `RSS read at once after the GCs instead (as before ADR 0044): sync server ${sync.rssAtOncePerSocket.toFixed(2)} KiB per socket (${mib(sync.before.rssAtOnce)} -> ${mib(sync.after.rssAtOnce)}), bare ws ${bare.rssAtOncePerSocket.toFixed(2)} KiB (${mib(bare.before.rssAtOnce)} -> ${mib(bare.after.rssAtOnce)}).`,
        breakdown("Sync server", sync),
        breakdown("Bare ws", bare),
        `Sync server: RSS ${mib(sync.before.rss)} -> ${mib(sync.after.rss)}, heap used ${mib(sync.before.heapUsed)} -> ${mib(sync.after.heapUsed)}, heap reserved ${mib(sync.before.heapTotal)} -> ${mib(sync.after.heapTotal)}, external ${mib(sync.before.external)} -> ${mib(sync.after.external)}. Bare ws: RSS ${mib(bare.before.rss)} -> ${mib(bare.after.rss)}, heap used ${mib(bare.before.heapUsed)} -> ${mib(bare.after.heapUsed)}, heap reserved ${mib(bare.before.heapTotal)} -> ${mib(bare.after.heapTotal)}.`,
      ],
    };
  },
};
