import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChildMessage, DeviceStatus, ParentMessage, RecordedOp } from "./ipc.js";
import type { FaultProxy } from "./proxy.js";
import { ownChild, releaseChild, waitUntil } from "./util.js";

const CHILD = fileURLToPath(new URL("./device-child.ts", import.meta.url));

export interface DeviceHooks {
  /** A fresh or current access token for this device (the harness decides its lifetime). */
  token(deviceId: string, rejected: boolean): Promise<string>;
  onOps(device: DeviceProcess, ops: RecordedOp[]): void;
  onResync(device: DeviceProcess): void;
  onLog(device: DeviceProcess, line: string): void;
}

/**
 * The harness's side of one device process: start (on its existing SQLite profile), edit,
 * status, SIGKILL, SIGSTOP/SIGCONT, graceful stop. Requests are answered over IPC and every
 * wait is bounded; a request to a dead or paused process answers null.
 */
export class DeviceProcess {
  proc: ChildProcess | null = null;
  paused = false;
  ready = false;
  private nextId = 1;
  private readonly waiters = new Map<number, (message: ChildMessage | null) => void>();
  /** Every cursor this device reported, in order (checked to only move forward). */
  readonly cursors: number[] = [];
  resyncs = 0;
  skewMs = 0;
  /** The random workload leaves this device alone (a scenario drives it). */
  quiet = false;
  /** When its process last became ready (ms epoch; 0 before the first start). */
  readyAt = 0;

  constructor(
    readonly label: string,
    readonly userId: string,
    public deviceId: string,
    readonly dataDir: string,
    readonly proxy: FaultProxy,
    private readonly hooks: DeviceHooks,
  ) {}

  get alive(): boolean {
    return this.proc !== null;
  }

  get usable(): boolean {
    return this.proc !== null && this.ready && !this.paused;
  }

  async start(): Promise<void> {
    this.ready = false;
    this.paused = false;
    const proc = fork(CHILD, [this.dataDir, "device", this.proxy.url, this.userId, this.deviceId], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    this.proc = proc;
    ownChild(proc.pid);
    // A send racing the child's death fails asynchronously (EPIPE): the exit handler answers.
    proc.on("error", () => {});
    let stderr = "";
    proc.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    proc.on("message", (raw) => this.receive(raw as ChildMessage));
    proc.once("exit", (code, signal) => {
      releaseChild(proc.pid);
      if (this.proc === proc) this.proc = null;
      this.ready = false;
      for (const waiter of this.waiters.values()) waiter(null);
      this.waiters.clear();
      if (code !== 0 && signal === null)
        this.hooks.onLog(this, `exited with ${code}: ${stderr.trim()}`);
    });
    const up = await waitUntil(() => this.ready || this.proc !== proc, 90_000);
    if (!up || !this.ready) throw new Error(`device ${this.label} did not start: ${stderr}`);
    if (this.skewMs !== 0) this.send({ t: "skew", ms: this.skewMs });
  }

  private receive(message: ChildMessage): void {
    switch (message.t) {
      case "ready":
        this.ready = true;
        this.readyAt = Date.now();
        return;
      case "need-token":
      case "token-rejected": {
        const rejected = message.t === "token-rejected";
        void this.hooks.token(this.deviceId, rejected).then((token) => {
          if (message.t === "need-token") this.send({ t: "token", id: message.id, token });
        });
        return;
      }
      case "resync":
        this.resyncs++;
        this.hooks.onResync(this);
        return;
      case "log":
        this.hooks.onLog(this, message.line);
        return;
      case "edited":
        if (message.ops.length > 0) this.hooks.onOps(this, message.ops);
        break;
      case "status":
        this.cursors.push(message.cursor);
        break;
    }
    if ("id" in message) {
      const waiter = this.waiters.get(message.id);
      this.waiters.delete(message.id);
      waiter?.(message);
    }
  }

  private send(message: ParentMessage): boolean {
    const proc = this.proc;
    if (!proc?.connected) return false;
    try {
      proc.send(message, (error) => {
        if (error) this.hooks.onLog(this, `send failed: ${error.message}`);
      });
      return true;
    } catch {
      return false;
    }
  }

  private request(
    build: (id: number) => ParentMessage,
    boundMs: number,
  ): Promise<ChildMessage | null> {
    if (!this.usable) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        resolve(null);
      }, boundMs);
      this.waiters.set(id, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      if (!this.send(build(id))) {
        clearTimeout(timer);
        this.waiters.delete(id);
        resolve(null);
      }
    });
  }

  async edit(
    r: number[],
    onOp?: (op: RecordedOp) => void,
  ): Promise<{ kind: string; error?: string } | null> {
    const answer = await this.request((id) => ({ t: "edit", id, r }), 30_000);
    if (answer?.t === "edited" && onOp) for (const op of answer.ops) onOp(op);
    return answer?.t === "edited"
      ? { kind: answer.kind, ...(answer.error ? { error: answer.error } : {}) }
      : null;
  }

  async status(): Promise<DeviceStatus | null> {
    const answer = await this.request((id) => ({ t: "status", id }), 15_000);
    return answer?.t === "status" ? answer : null;
  }

  /** Binds the profile anew under `deviceId` (after a revocation); answers the bind's outcome. */
  async rebind(deviceId: string): Promise<string | null> {
    this.deviceId = deviceId;
    const answer = await this.request((id) => ({ t: "rebind", id, deviceId }), 60_000);
    return answer?.t === "rebound" ? answer.outcome : null;
  }

  setSkew(ms: number): void {
    this.skewMs = ms;
    this.send({ t: "skew", ms });
  }

  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill("SIGKILL");
    await exited;
    this.paused = false;
  }

  pause(): void {
    if (!this.proc || this.paused) return;
    this.proc.kill("SIGSTOP");
    this.paused = true;
  }

  resume(): void {
    if (!this.proc || !this.paused) return;
    this.proc.kill("SIGCONT");
    this.paused = false;
  }

  /** Graceful stop: the engine closes its SQLite file. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.resume();
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    await this.request((id) => ({ t: "stop", id }), 30_000);
    const gone = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000)),
    ]);
    if (!gone) await this.kill();
  }
}
