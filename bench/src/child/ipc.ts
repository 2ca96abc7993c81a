import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getHeapSpaceStatistics, writeHeapSnapshot } from "node:v8";
import type { ChildMessage, ChildRequest, MemorySample } from "../children.js";
import { waitForQuietRss } from "../rss-settle.js";

/** The child's half of children.ts: announce the port, answer requests, stop on demand. */
export function serveParent(
  port: number,
  handlers: Record<string, (request: ChildRequest) => Promise<unknown>>,
  stop: () => Promise<void>,
): void {
  const send = (message: ChildMessage) => process.send?.(message);
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("message", (raw) => {
    const request = raw as ChildRequest;
    if (request.type === "stop") return shutdown();
    const handler =
      request.type === "memory"
        ? sampleMemory
        : request.type === "cpu"
          ? async () => process.cpuUsage()
          : handlers[request.type];
    if (!handler) {
      send({ kind: "failed", id: request.id, message: `unknown request ${request.type}` });
      return;
    }
    handler(request).then(
      (payload) => send({ kind: "reply", id: request.id, payload }),
      (error: unknown) =>
        send({
          kind: "failed",
          id: request.id,
          message: (error as Error).message ?? String(error),
        }),
    );
  });
  // The parent died or dropped us: nothing may outlive the run.
  process.on("disconnect", shutdown);
  process.on("SIGTERM", shutdown);
  send({ kind: "ready", port });
}

async function sampleMemory(): Promise<MemorySample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("start the child with --expose-gc to sample memory");
  // Twice, with a turn of the event loop between: weak refs and finalizers settle.
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  const rssAtOnce = process.memoryUsage.rss();
  // V8 sweeps and gives pages back on background threads after gc() returns (rss-settle.ts).
  await waitForQuietRss(
    () => process.memoryUsage.rss(),
    (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  );
  const usage = process.memoryUsage();
  const spaces = getHeapSpaceStatistics();
  const space = (name: string) => spaces.find((each) => each.space_name === name);
  const status = readFileSync("/proc/self/status", "utf8");
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  // Profiling only: a heap snapshot beside each sample (taken after it, so the sample is not
  // moved by the snapshot's own allocations; the next sample is, by tens of MiB of RSS).
  const snapshots = process.env.BENCH_HEAP_SNAPSHOT_DIR;
  if (snapshots) writeHeapSnapshot(join(snapshots, `${process.pid}-${Date.now()}.heapsnapshot`));
  // Profiling only: the process's memory map (/proc/self/smaps) beside each sample, for where
  // its anonymous memory is (malloc arenas, V8's pages, stacks).
  const smaps = process.env.BENCH_SMAPS_DIR;
  if (smaps) {
    writeFileSync(
      join(smaps, `${process.pid}-${Date.now()}.smaps`),
      readFileSync("/proc/self/smaps"),
    );
  }
  return {
    rss: usage.rss,
    rssAtOnce,
    heapUsed: usage.heapUsed,
    heapTotal: usage.heapTotal,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
    oldSpaceCommitted: space("old_space")?.space_size ?? 0,
    oldSpaceUsed: space("old_space")?.space_used_size ?? 0,
    newSpaceCommitted: space("new_space")?.space_size ?? 0,
    rssAnon: kib("RssAnon"),
    rssFile: kib("RssFile"),
  };
}

/** The JSON the parent passed as the first argument. */
export function childConfig<T>(): T {
  const raw = process.argv[2];
  if (!raw) throw new Error("a bench child takes its config as a JSON argument");
  return JSON.parse(raw) as T;
}
