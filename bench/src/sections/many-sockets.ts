import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { SocketClientConfig } from "../child/socket-client.js";
import { type ChildHandle, type MemorySample, startChild } from "../children.js";
import { CHILD_RAW_WS, CHILD_SOCKET_CLIENT, CHILD_SYNC_SERVER, type Section } from "../context.js";
import { seedDevices } from "../fixtures.js";
import { type Progress, sleep } from "../progress.js";
import type { Figure } from "../report.js";

/** The sockets one server process should hold. */
export const WANTED = 50_000;
/** Descriptors the server needs besides its sockets (pool, listeners, stdio, epoll, libs). */
const SERVER_RESERVE = 500;
/**
 * The longest a client process may take to open its share: authenticated subscriptions opened
 * at ~70/s on a busy 2-core machine (each verifies a token and reads a backfill page).
 */
const HOLD_TIMEOUT_MS = 600_000;
/** Sockets per client process: well under a 20,000 open-files limit. */
const PER_CLIENT = 12_500;
const DEVICES_PER_USER = 4;
const SETTLE_MS = 3_000;
const KIB = 1024;
const MIB = 1024 * 1024;
/** CAP_SYS_RESOURCE: the capability that allows raising a hard resource limit. */
const CAP_SYS_RESOURCE = 24;

/** A process's open-files limits, from /proc/<pid>/limits. */
export function openFilesOf(pid: number | "self"): { soft: number; hard: number } {
  const limits = readFileSync(`/proc/${pid}/limits`, "utf8");
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  const parse = (value: string | undefined) =>
    value === "unlimited" ? Number.POSITIVE_INFINITY : Number(value);
  return { soft: parse(match?.[1]), hard: parse(match?.[2]) };
}

/** Whether this process holds CAP_SYS_RESOURCE (needed to raise a hard limit, even as root). */
function hasCapSysResource(): boolean | null {
  try {
    const status = readFileSync("/proc/self/status", "utf8");
    const effective = /^CapEff:\s+([0-9a-f]+)$/m.exec(status)?.[1];
    if (!effective) return null;
    return ((BigInt(`0x${effective}`) >> BigInt(CAP_SYS_RESOURCE)) & 1n) === 1n;
  } catch {
    return null;
  }
}

/**
 * Tries to give the server child `wanted` open files (soft and hard) with prlimit(1); answers
 * the limit it runs under afterwards and, when raising failed, why.
 */
function raiseLimit(pid: number, wanted: number): { soft: number; refused: string | null } {
  let refused: string | null = null;
  if (openFilesOf(pid).soft < wanted) {
    try {
      execFileSync("prlimit", ["--pid", String(pid), `--nofile=${wanted}:${wanted}`], {
        stdio: ["ignore", "ignore", "pipe"],
      });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
      refused = stderr || (error as Error).message;
    }
  }
  return { soft: openFilesOf(pid).soft, refused };
}

interface Held {
  sockets: number;
  before: MemorySample;
  after: MemorySample;
  connectSeconds: number;
}

async function hold(
  server: ChildHandle,
  clients: ChildHandle[],
  url: string,
  tokens: string[],
  subscribe: boolean,
  label: string,
  progress: Progress,
): Promise<Held> {
  const before = await server.memory();
  const started = performance.now();
  progress.note(
    `${label}: opening ${tokens.length.toLocaleString("en-US")} sockets from ${clients.length} client processes`,
  );
  try {
    const counts = await Promise.all(
      clients.map((client, c) =>
        client.request<number>(
          "hold",
          { url, subscribe, tokens: tokens.slice(c * PER_CLIENT, (c + 1) * PER_CLIENT) },
          HOLD_TIMEOUT_MS,
        ),
      ),
    );
    const sockets = counts.reduce((sum, n) => sum + n, 0);
    const connectSeconds = (performance.now() - started) / 1000;
    progress.note(
      `${label}: ${sockets.toLocaleString("en-US")} sockets open in ${connectSeconds.toFixed(0)} s; settling`,
    );
    await sleep(SETTLE_MS);
    const after = await server.memory();
    return { sockets, before, after, connectSeconds };
  } finally {
    await Promise.all(clients.map((client) => client.request("drop", {}, 60_000)));
  }
}

const mib = (bytes: number) => `${(bytes / MIB).toFixed(0)} MiB`;
const perSocket = (held: Held) => (held.after.rss - held.before.rss) / held.sockets / KIB;
const heapPerSocket = (held: Held) =>
  (held.after.heapUsed + held.after.external - held.before.heapUsed - held.before.external) /
  held.sockets /
  KIB;

export const manySockets: Section = {
  number: 12,
  title: `Idle subscribed sockets held by one server process (${WANTED.toLocaleString("en-US")} wanted)`,
  budgetMs: 1_200_000,
  optIn: true,
  async run(context, progress) {
    const server = await startChild("sync-server", CHILD_SYNC_SERVER, {
      databaseUrl: context.databaseUrl,
      jwks: context.jwks,
    });
    let sync: Held;
    let bare: Held;
    let count: number;
    let limit: { soft: number; refused: string | null };
    const clients: ChildHandle[] = [];
    try {
      limit = raiseLimit(server.pid, WANTED + SERVER_RESERVE);
      count = Math.min(WANTED, limit.soft - SERVER_RESERVE);
      count -= count % DEVICES_PER_USER;
      progress.note(
        `server open-files limit ${limit.soft}${limit.refused ? ` (raising it was refused: ${limit.refused})` : ""}: holding ${count.toLocaleString("en-US")} sockets`,
      );
      progress.note(`seeding ${count.toLocaleString("en-US")} devices and their tokens`);
      const devices = (
        await seedDevices(context.pool, context.key, count / DEVICES_PER_USER, DEVICES_PER_USER)
      ).flat();
      const tokens = devices.map((device) => device.token);
      for (let c = 0; c * PER_CLIENT < count; c++) {
        clients.push(
          await startChild(`socket client ${c + 1}`, CHILD_SOCKET_CLIENT, {
            localAddress: `127.0.0.${c + 2}`,
          } satisfies SocketClientConfig),
        );
      }
      sync = await hold(
        server,
        clients,
        `ws://127.0.0.1:${server.port}/trpc`,
        tokens,
        true,
        "sync server",
        progress,
      );
      await server.stop();

      const raw = await startChild("raw-ws", CHILD_RAW_WS, { maxPayload: 1024 * 1024 });
      try {
        raiseLimit(raw.pid, WANTED + SERVER_RESERVE);
        bare = await hold(
          raw,
          clients,
          `ws://127.0.0.1:${raw.port}`,
          tokens,
          false,
          "bare ws",
          progress,
        );
      } finally {
        await raw.stop();
      }
    } finally {
      await server.stop();
      for (const client of clients) await client.stop();
    }
    const capability = hasCapSysResource();
    const self = openFilesOf("self");
    const figures: Figure[] = [
      {
        name: `server RSS per idle subscribed socket, ${sync.sockets.toLocaleString("en-US")} sockets in one process`,
        unit: "KiB",
        value: perSocket(sync),
        baselineName: "bare ws server, same sockets",
        baseline: perSocket(bare),
        better: "lower",
        target: { on: "figure", kind: "max", value: 50 },
      },
      {
        name: `server RSS holding ${sync.sockets.toLocaleString("en-US")} idle subscribed sockets`,
        unit: "MiB",
        value: sync.after.rss / MIB,
        baselineName: "bare ws server, same sockets",
        baseline: bare.after.rss / MIB,
        better: "lower",
      },
    ];
    const projected = (sync.before.rss + perSocket(sync) * KIB * WANTED) / MIB;
    return {
      figures,
      notes: [
        `Wanted: ${WANTED.toLocaleString("en-US")} sockets in one server process. Held: ${sync.sockets.toLocaleString("en-US")}. ${
          sync.sockets < WANTED
            ? `Each socket is one file descriptor of the server process, and its open-files limit is ${limit.soft.toLocaleString("en-US")}: the bench's shell runs with a hard limit of ${self.hard.toLocaleString("en-US")} (npm run bench raises the soft limit to it), and raising a hard limit needs CAP_SYS_RESOURCE, which this process ${capability === false ? "does not hold (it runs as root, but CapEff lacks bit 24: the container drops it)" : capability === true ? "holds" : "could not read"}; \`prlimit --pid <server> --nofile=${WANTED + SERVER_RESERVE}:${WANTED + SERVER_RESERVE}\` answered: ${limit.refused ?? "(not needed)"}. So the server held ${sync.sockets.toLocaleString("en-US")} (its limit minus ${SERVER_RESERVE} descriptors for everything else), and ${WANTED.toLocaleString("en-US")} is a projection from the measured per-socket cost: ${mib(sync.before.rss)} + ${WANTED.toLocaleString("en-US")} x ${perSocket(sync).toFixed(1)} KiB = ~${projected.toFixed(0)} MiB of RSS.`
            : "The server process's open-files limit allowed all of them."
        }`,
        `Clients: ${clients.length} client processes of ${PER_CLIENT.toLocaleString("en-US")} sockets at most (each under its own open-files limit), each binding its sockets to a loopback address of its own (127.0.0.2, 127.0.0.3, …: one source address has only ~28,000 ephemeral ports towards one server port). ${(sync.sockets / DEVICES_PER_USER).toLocaleString("en-US")} users x ${DEVICES_PER_USER} devices, each socket authenticated with its device token (connectionParams) and holding one live \`sync.subscribe\`; opened in ${sync.connectSeconds.toFixed(0)} s (100 in flight per client process).`,
        `Memory is sampled in the server process after two forced GCs, before the first socket and ${SETTLE_MS / 1000} s after the last; per socket = delta / sockets. Sync server: RSS ${mib(sync.before.rss)} -> ${mib(sync.after.rss)}, heap used ${mib(sync.before.heapUsed)} -> ${mib(sync.after.heapUsed)} (heap + external per socket ${heapPerSocket(sync).toFixed(1)} KiB). Bare ws (the same client processes, plain sockets): RSS ${mib(bare.before.rss)} -> ${mib(bare.after.rss)}, ${bare.sockets.toLocaleString("en-US")} sockets opened in ${bare.connectSeconds.toFixed(0)} s (heap + external per socket ${heapPerSocket(bare).toFixed(1)} KiB).`,
      ],
    };
  },
};
