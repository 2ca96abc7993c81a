import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SYNC_SERVER_ENV, SYNC_SERVER_NODE_FLAGS } from "@chorus/sync-server/node-flags";
import { bundledChild } from "./bundle.js";
import { CHILD_SYNC_SERVER } from "./context.js";

/**
 * Servers under test run in child processes so that their memory is theirs alone and their
 * event loop does not share a core with the load generator. Parent and child talk over IPC:
 * the child says `ready`, then answers requests by id; it exits when told to stop or when the
 * parent goes away.
 */
export type ChildMessage =
  | { kind: "ready"; port: number }
  | { kind: "reply"; id: number; payload: unknown }
  | { kind: "failed"; id: number; message: string };

export interface ChildRequest {
  id: number;
  type: string;
  [field: string]: unknown;
}

export interface MemorySample {
  /** Once the RSS has stopped moving after the forced GCs (V8 sweeps and unmaps after gc()). */
  rss: number;
  /** Read at once after the forced GCs, as samples were before ADR 0044: for comparison only. */
  rssAtOnce: number;
  heapUsed: number;
  /** V8 heap reserved (used or not): what the heap keeps of RSS after the GCs. */
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** V8's old space: committed, and used by live objects (the rest is free space in its pages). */
  oldSpaceCommitted: number;
  oldSpaceUsed: number;
  /** V8's young generation committed (it grows to its maximum under load, kept until idle). */
  newSpaceCommitted: number;
  /** RSS of anonymous memory (V8 heap, malloc, stacks) and of mapped files (the binary, libs). */
  rssAnon: number;
  rssFile: number;
}

/** Share of one core each process used while `work` ran (1 = one core busy the whole time). */
export interface CpuShare<T> {
  result: T;
  server: number;
  bench: number;
}

export async function measureCpu<T>(
  child: ChildHandle,
  work: () => Promise<T>,
): Promise<CpuShare<T>> {
  const childBefore = await child.cpu();
  const benchBefore = process.cpuUsage();
  const started = performance.now();
  const result = await work();
  const elapsedUs = (performance.now() - started) * 1000;
  const childAfter = await child.cpu();
  const bench = process.cpuUsage(benchBefore);
  const childUs = childAfter.user + childAfter.system - childBefore.user - childBefore.system;
  return { result, server: childUs / elapsedUs, bench: (bench.user + bench.system) / elapsedUs };
}

export interface ChildHandle {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  request<T>(type: string, fields?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Garbage-collects in the child, waits for its RSS to settle, then samples its memory. */
  memory(): Promise<MemorySample>;
  /** The child's process.cpuUsage(). */
  cpu(): Promise<NodeJS.CpuUsage>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

/** Kills every child this run started and is still running (the run's watchdog). */
export function killChildren(): void {
  for (const child of running) child.kill("SIGKILL");
}

let profileDir: string | null = null;

/** Every child started after this writes a V8 CPU profile (.cpuprofile) into `dir` when it exits. */
export function profileChildrenInto(dir: string): void {
  profileDir = dir;
}

export async function startChild(
  name: string,
  script: URL,
  config: unknown,
  timeoutMs = 30_000,
): Promise<ChildHandle> {
  const isSyncServer = script.href === CHILD_SYNC_SERVER.href;
  const bundle = await bundledChild(script);
  const child = fork(fileURLToPath(bundle), [JSON.stringify(config)], {
    // The sync server runs with the allocator settings it is started with in production.
    env: isSyncServer ? { ...process.env, ...SYNC_SERVER_ENV } : process.env,
    execArgv: [
      "--expose-gc",
      // The sync server runs with the V8 flags it runs with in production.
      ...(isSyncServer ? SYNC_SERVER_NODE_FLAGS : []),
      ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
    ],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  running.add(child);
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      running.delete(child);
      resolve();
    });
  });
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 1;
  child.on("message", (raw) => {
    const message = raw as ChildMessage;
    if (message.kind === "ready") return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.kind === "reply") waiter.resolve(message.payload);
    else waiter.reject(new Error(`${name}: ${message.message}`));
  });
  child.once("exit", (code, signal) => {
    for (const waiter of pending.values()) {
      waiter.reject(new Error(`${name} exited (${signal ?? code}) before answering`));
    }
    pending.clear();
  });

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on("message", (raw) => {
      const message = raw as ChildMessage;
      if (message.kind !== "ready") return;
      clearTimeout(timer);
      resolve(message.port);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${signal ?? code}) during start-up`));
    });
  });

  const request = <T>(type: string, fields: Record<string, unknown> = {}, ms = 60_000) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${name}: no answer to ${type} within ${ms} ms`));
      }, ms);
      pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      child.send({ id, type, ...fields } satisfies ChildRequest);
    });

  return {
    name,
    pid: child.pid ?? -1,
    port,
    request,
    memory: () => request<MemorySample>("memory"),
    cpu: () => request<NodeJS.CpuUsage>("cpu"),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      if (child.connected) child.send({ id: 0, type: "stop" } satisfies ChildRequest);
      else child.kill("SIGTERM");
      await exited;
      clearTimeout(timer);
    },
  };
}
