import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevSigningKey, mintAccessToken, type SigningKey } from "@chorus/auth";
import { withDatabase } from "@chorus/db";
import { migrate } from "@chorus/db/migrate";
import { openStore } from "@chorus/desktop-sync";
import { DeviceProcess } from "./devices.js";
import {
  type Divergence,
  deviceView,
  firstDivergence,
  foldView,
  History,
  superseded,
  type View,
  withClient,
} from "./history.js";
import { ChaosPostgres } from "./postgres.js";
import { FaultProxy } from "./proxy.js";
import { Rng } from "./rng.js";
import { revokeRebind, runScenarios, type ScenarioContext, scenarioPins } from "./scenarios.js";
import { ServerReplica } from "./servers.js";
import { canonicalJson, percentile, sleep, waitUntil } from "./util.js";

export interface RunOptions {
  seed: number;
  durationMs: number;
  users: number;
  devicesPerUser: number;
  /** Mean gap between two faults. */
  faultGapMs: number;
  redisUrl: string;
  log: (line: string) => void;
  keepWorkDir?: boolean;
  /** Run the safeguard scenarios (scenarios.ts) before the random faults (default true). */
  scenarios?: boolean;
}

export interface TimelineEvent {
  atMs: number;
  kind: string;
  target: string;
  detail: string;
}

export interface RunResult {
  seed: number;
  durationMs: number;
  users: number;
  devicesPerUser: number;
  faultGapMs: number;
  violations: string[];
  faults: Record<string, number>;
  timeline: TimelineEvent[];
  opsWritten: number;
  opsAcknowledged: number;
  opsStored: number;
  opsRestamped: number;
  opsCompactedAway: number;
  editsFailed: number;
  resyncs: number;
  convergeMs: number[];
  convergeP50: number | null;
  convergeP99: number | null;
  firstDivergence: string | null;
  workDir: string;
}

export const FAULT_KINDS = [
  "device-sigkill",
  "device-sigstop",
  "server-sigkill",
  "server-sigstop",
  "proxy-drop",
  "proxy-delay",
  "proxy-half-open",
  "proxy-partition",
  "push-answer-cut",
  "postgres-sigkill",
  "clock-skew",
  "compaction-away",
  "compaction-return",
  "compaction-reconnect",
  "device-revoke",
] as const;
type FaultKind = (typeof FAULT_KINDS)[number];

const WEIGHTS: Record<FaultKind, number> = {
  "device-sigkill": 3,
  "device-sigstop": 1.5,
  "server-sigkill": 2,
  "server-sigstop": 1,
  "proxy-drop": 1.5,
  "proxy-delay": 1,
  "proxy-half-open": 1,
  "proxy-partition": 1.5,
  "push-answer-cut": 1.5,
  "postgres-sigkill": 0.6,
  "clock-skew": 0.7,
  "compaction-away": 0.8,
  "compaction-return": 0.8,
  "compaction-reconnect": 0.7,
  "device-revoke": 0.4,
};

const FORCED: readonly FaultKind[] = [
  "push-answer-cut",
  "compaction-return",
  "server-sigkill",
  "push-answer-cut",
  "compaction-away",
  "compaction-reconnect",
];

function pickKind(rng: Rng): FaultKind {
  const total = FAULT_KINDS.reduce((sum, kind) => sum + WEIGHTS[kind], 0);
  let x = rng.next() * total;
  for (const kind of FAULT_KINDS) {
    x -= WEIGHTS[kind];
    if (x < 0) return kind;
  }
  return "proxy-drop";
}

const DAY = 24 * 60 * 60 * 1000;
/**
 * The replicas' periodic ACK flush. Longer than the default (5 s) so that a returning device's
 * ACK is still buffered when the scenario that needs it there runs compaction, however slow
 * the machine; the harness makes a flush happen when it needs one (a compaction run flushes
 * every replica's buffered ACKs of the user first).
 */
const ACK_FLUSH_MS = 60_000;

/**
 * One chaos run: real Postgres, two sync-server replicas over Redis, users' device engines
 * each in its own process behind its own fault proxy; a seeded fault schedule and workload;
 * then heal, drain and check (see README.md for the checks).
 */
export async function runChaos(options: RunOptions): Promise<RunResult> {
  const { seed, log } = options;
  const started = Date.now();
  const at = () => Date.now() - started;
  const timeline: TimelineEvent[] = [];
  const faults: Record<string, number> = {};
  const violations: string[] = [];
  const note = (kind: string, target: string, detail = "") => {
    timeline.push({ atMs: at(), kind, target, detail });
    if (
      FAULT_KINDS.includes(kind as FaultKind) ||
      kind === "token-expiry" ||
      kind === "revoked-with-ops-in-flight" ||
      (kind.startsWith("scenario-") && !kind.endsWith("-done") && kind !== "scenario-note")
    )
      faults[kind] = (faults[kind] ?? 0) + 1;
    log(`[${(at() / 1000).toFixed(1)}s] ${kind} ${target} ${detail}`);
  };

  const workDir = mkdtempSync(join(tmpdir(), `chorus-chaos-${seed}-`));
  const history = new History();
  const pgServer = await ChaosPostgres.create(join(workDir, "pg"));
  const dbName = "chaos";
  await withClient(pgServer.url, (c) => c.query(`CREATE DATABASE ${dbName}`));
  const dbUrl = () => withDatabase(pgServer.url, dbName);
  // CHAOS_MIGRATIONS_DIR: a copy of prisma/migrations (a run beside a mutation check).
  const migrations = process.env.CHAOS_MIGRATIONS_DIR;
  await migrate(dbUrl(), migrations ? { dir: migrations } : {});
  const keyFile = join(workDir, "dev-signing-key.json");
  const key: SigningKey = await loadOrCreateDevSigningKey(keyFile);

  // Users, an admin (runs compaction through the real endpoint), device rows.
  const adminId = randomUUID();
  const userIds = Array.from({ length: options.users }, () => randomUUID());
  await withClient(dbUrl(), async (c) => {
    for (const id of [adminId, ...userIds]) {
      await c.query(
        `INSERT INTO users (id, email, password_hash, role, updated_at) VALUES ($1, $2, 'x', $3, now())`,
        [id, `${id}@chaos.test`, id === adminId ? "admin" : "user"],
      );
    }
  });
  const newDeviceRow = (userId: string) =>
    withClient(dbUrl(), async (c) => {
      const id = randomUUID();
      await c.query(
        `INSERT INTO devices (id, user_id, name, platform, app_version) VALUES ($1, $2, 'chaos', 'linux', '0.1.0')`,
        [id, userId],
      );
      return id;
    });

  const prefix = `chaos-${seed}-${randomUUID().slice(0, 8)}`;
  const serverEnv = () => ({
    DATABASE_URL: dbUrl(),
    CHORUS_DEV_KEY_FILE: keyFile,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: prefix,
    ACK_FLUSH_INTERVAL_MS: String(ACK_FLUSH_MS),
    COMPACTION_TIME: "off",
    COMPACTION_STALE_DAYS: "1",
    SHUTDOWN_GRACE_MS: "5000",
    LOG_LEVEL: "info",
    NODE_ENV: "development",
  });
  const servers = [
    new ServerReplica("server-a", serverEnv),
    new ServerReplica("server-b", serverEnv),
  ];
  await Promise.all(servers.map((s) => s.start()));
  let roundRobin = 0;
  const liveTarget = () => {
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(roundRobin++ + i) % servers.length];
      const port = server?.target ?? null;
      if (port !== null) return port;
    }
    return null;
  };

  // Tokens: short-lived (10-40 s), so they expire mid-stream; the server closes a socket when
  // its token expires and the engine reconnects with a new one.
  const tokenRng = new Rng(seed ^ 0x5eed);
  const tokens = new Map<string, { token: string; expiresAt: number }>();
  const deviceOwner = new Map<string, string>();
  const mint = async (deviceId: string, rejected: boolean): Promise<string> => {
    const current = tokens.get(deviceId);
    const now = Date.now();
    if (current && !rejected && current.expiresAt - now > 1_500) return current.token;
    if (current && current.expiresAt <= now + 1_500) note("token-expiry", deviceId.slice(0, 8));
    const userId = deviceOwner.get(deviceId) ?? "";
    const minted = await mintAccessToken(
      key,
      { userId, role: "user", kind: "device", deviceId },
      { ttlSeconds: tokenRng.int(10, 40) },
    );
    tokens.set(deviceId, { token: minted.token, expiresAt: minted.expiresAt.getTime() });
    return minted.token;
  };

  // Devices, each behind a proxy.
  const devices: DeviceProcess[] = [];
  const awayCursor = new Map<DeviceProcess, number>();
  let editsFailed = 0;
  const hooks = {
    token: mint,
    onOps: (device: DeviceProcess, ops: Parameters<History["record"]>[1]) =>
      history.record(device.userId, ops),
    onResync: (device: DeviceProcess) => {
      note("resync", device.label);
      if (!awayCursor.has(device)) {
        violations.push(
          `${device.label} had to resync though it was never away: the watermark passed a non-stale device's ACK`,
        );
      }
      awayCursor.delete(device);
    },
    onLog: (device: DeviceProcess, line: string) => {
      if (/exited with|close failed/.test(line)) log(`  ${device.label}: ${line}`);
    },
  };
  /** A device pinned to one replica: its new connections go there (or nowhere while it is down). */
  const pins = new Map<string, ServerReplica>();
  const makeDevice = async (userIndex: number, label: string) => {
    const userId = userIds[userIndex] ?? "";
    const deviceId = await newDeviceRow(userId);
    deviceOwner.set(deviceId, userId);
    const proxy = await FaultProxy.start(() => {
      const pinned = pins.get(label);
      return pinned ? pinned.target : liveTarget();
    });
    const dataDir = join(workDir, "devices", label);
    mkdirSync(dataDir, { recursive: true });
    return new DeviceProcess(label, userId, deviceId, dataDir, proxy, hooks);
  };
  for (let u = 0; u < options.users; u++) {
    for (let d = 0; d < options.devicesPerUser; d++)
      devices.push(await makeDevice(u, `u${u}d${d}`));
  }
  for (const [label, server] of scenarioPins(devices, userIds, servers)) pins.set(label, server);
  await Promise.all(devices.map((device) => device.start()));
  log(
    `chaos seed ${seed}: ${devices.length} devices of ${options.users} users, 2 replicas, work dir ${workDir}`,
  );

  // Cursors only move forward (checked on every status answer, across restarts).
  const statusOf = async (device: DeviceProcess) => {
    const status = await device.status();
    if (!status) return null;
    const before = device.cursors.at(-2);
    if (before !== undefined && status.cursor < before) {
      violations.push(`${device.label}: cursor moved back from ${before} to ${status.cursor}`);
    }
    const away = awayCursor.get(device);
    if (away !== undefined && status.cursor > away) {
      violations.push(
        `${device.label}: cursor ${away} was below the watermark, yet it applied ops up to ${status.cursor} without a resync`,
      );
      awayCursor.delete(device);
    }
    return status;
  };

  // ---- the run -----------------------------------------------------------------------------
  let writing = true;
  const background: Promise<unknown>[] = [];
  const restore: (() => Promise<void>)[] = [];
  const later = (ms: number, fn: () => Promise<void> | void) => {
    let done = false;
    const run = async () => {
      if (done) return;
      done = true;
      try {
        await fn();
      } catch (error) {
        violations.push(`harness: a restore step failed: ${String(error)}`);
      }
    };
    restore.push(run);
    background.push(sleep(ms).then(run));
  };

  const workload = devices.map(async (device, index) => {
    const rng = new Rng(seed * 7919 + index);
    while (writing) {
      await sleep(rng.int(600, 2_400));
      if (!writing) break;
      const r = Array.from({ length: 8 }, () => rng.next());
      if (!device.usable || device.quiet) continue;
      const outcome = await device.edit(r);
      if (outcome?.error) editsFailed++;
    }
  });

  const poller = (async () => {
    while (writing) {
      await history.poll(dbUrl(), userIds);
      await sleep(1_000);
    }
  })();
  const statusPoller = (async () => {
    while (writing) {
      for (const device of devices) if (device.usable) await statusOf(device);
      await sleep(2_000);
    }
  })();

  const admin = async (path: string, input: unknown, via?: ServerReplica) => {
    const port = via ? via.target : servers.find((s) => s.target !== null)?.target;
    if (!port) throw new Error(via ? `${via.name} is down` : "no live server");
    const token = (await mintAccessToken(key, { userId: adminId, role: "admin", kind: "web" }))
      .token;
    const res = await fetch(`http://127.0.0.1:${port}/trpc/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as { result: { data: Record<string, unknown> } };
  };
  // One compaction at a time from the harness: the servers run one across replicas and
  // answer "skipped" to a second.
  let compactionChain: Promise<unknown> = Promise.resolve();
  const compact = (userId: string, label: string, via?: ServerReplica): Promise<boolean> => {
    const run = compactionChain.then(async () => {
      await history.poll(dbUrl(), userIds);
      try {
        const answer = await admin("admin.runCompaction", { userId }, via);
        history.compactedUsers.add(userId);
        const data = answer.result.data;
        note(
          "compaction-done",
          label,
          `${via ? `via ${via.name} ` : ""}${JSON.stringify(data).slice(0, 200)}`,
        );
        return data.outcome === "succeeded";
      } catch (error) {
        note("compaction-failed", label, String(error).slice(0, 200));
        return false;
      }
    });
    compactionChain = run;
    return run;
  };
  const watermarkOf = (userId: string) =>
    withClient(dbUrl(), async (c) => {
      const { rows } = await c.query<{ w: string }>(
        "SELECT compacted_up_to AS w FROM sync_compaction_watermark WHERE user_id = $1",
        [userId],
      );
      return Number(rows[0]?.w ?? 0);
    });
  const persistedCursor = (device: DeviceProcess) => {
    const db = openStore(join(device.dataDir, "profiles", "device", "profile.db"));
    try {
      return Number(db.prepare("SELECT value FROM sync_meta WHERE key = 'cursor'").pluck().get());
    } finally {
      db.close();
    }
  };

  const newest = async (userId: string) =>
    withClient(dbUrl(), async (c) => {
      const { rows } = await c.query<{ m: string | null }>(
        "SELECT max(id) AS m FROM sync_op WHERE user_id = $1",
        [userId],
      );
      return Number(rows[0]?.m ?? 0);
    });
  /** Makes a device look unseen for two days (the stale window is one day). */
  const ageDevice = async (device: DeviceProcess) => {
    try {
      await withClient(dbUrl(), async (c) => {
        await c.query(`UPDATE devices SET bound_at = now() - interval '2 days' WHERE id = $1`, [
          device.deviceId,
        ]);
        await c.query(
          `UPDATE device_sync_cursor SET last_seen_at = now() - interval '2 days' WHERE device_id = $1`,
          [device.deviceId],
        );
      });
    } catch (error) {
      note("age-skipped", device.label, String(error).slice(0, 120));
    }
  };

  /** A peer of `device` edits; waits (bounded) until the user's live devices applied it. */
  const advancePeers = async (device: DeviceProcess, rng: Rng) => {
    const peers = devices.filter((d) => d !== device && d.userId === device.userId && d.usable);
    const writer = peers[0];
    if (!writer) return;
    const before = await newest(device.userId).catch(() => 0);
    await writer.edit(Array.from({ length: 8 }, () => rng.next()));
    let head = before;
    await waitUntil(
      async () => {
        head = await newest(device.userId).catch(() => before);
        return head > before;
      },
      20_000,
      200,
    );
    await waitUntil(
      async () => {
        for (const peer of peers) if (((await peer.status())?.cursor ?? head) < head) return false;
        return true;
      },
      20_000,
      200,
    );
    await sleep(700); // their ACKs (debounced 100 ms) reach a replica
  };

  /** Revokes a device as the account page does: devices.revoke with the user's web token. */
  const revoke = async (device: DeviceProcess): Promise<void> => {
    const port = servers.find((s) => s.target !== null)?.target;
    if (!port) throw new Error("no live server");
    const token = (await mintAccessToken(key, { userId: device.userId, role: "user", kind: "web" }))
      .token;
    const res = await fetch(`http://127.0.0.1:${port}/trpc/devices.revoke`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ deviceId: device.deviceId }),
      signal: AbortSignal.timeout(60_000),
    });
    if (!res.ok)
      throw new Error(`devices.revoke: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
  };
  /** A new device row of the same user (what the token endpoint's binding creates), and its tokens. */
  const rebind = async (device: DeviceProcess): Promise<string | null> => {
    const deviceId = await newDeviceRow(device.userId);
    deviceOwner.set(deviceId, device.userId);
    return await device.rebind(deviceId);
  };

  const scenarioContext: ScenarioContext = {
    seed,
    devices,
    servers,
    history,
    dbUrl,
    pins,
    awayCursor,
    violations,
    note,
    statusOf,
    newest,
    watermarkOf,
    persistedCursor,
    ageDevice,
    advancePeers,
    compact,
    revoke,
    rebind,
  };

  const inject = async (
    kind: FaultKind,
    rng: Rng,
    chosen: DeviceProcess = rng.pick(devices),
  ): Promise<void> => {
    const device = chosen;
    const server = rng.pick(servers);
    const ms = rng.int(0, 10_000);
    switch (kind) {
      case "device-sigkill": {
        if (!device.usable) return;
        note(kind, device.label);
        await device.kill();
        later(rng.int(300, 5_000), async () => {
          note("device-restart", device.label);
          await device.start();
        });
        return;
      }
      case "device-sigstop": {
        if (!device.usable) return;
        note(kind, device.label, `${ms} ms`);
        device.pause();
        later(ms, () => {
          note("device-sigcont", device.label);
          device.resume();
        });
        return;
      }
      case "server-sigkill": {
        if (server.target === null || servers.filter((s) => s.target !== null).length < 2) return;
        note(kind, server.name);
        await server.kill();
        later(rng.int(500, 5_000), async () => {
          note("server-restart", server.name);
          await server.start();
        });
        return;
      }
      case "server-sigstop": {
        if (server.target === null || servers.filter((s) => s.target !== null).length < 2) return;
        note(kind, server.name, `${ms} ms`);
        server.pause();
        later(ms, () => {
          note("server-sigcont", server.name);
          server.resume();
        });
        return;
      }
      case "proxy-drop":
        note(kind, device.label);
        device.proxy.drop();
        return;
      case "proxy-delay": {
        const delay = rng.int(50, 1_500);
        note(kind, device.label, `${delay} ms for ${ms} ms`);
        device.proxy.delay(delay, ms);
        return;
      }
      case "proxy-half-open":
        note(kind, device.label, `${ms} ms`);
        device.proxy.halfOpen(ms);
        return;
      case "proxy-partition":
        note(kind, device.label, `${ms} ms`);
        device.proxy.partition(ms);
        return;
      case "push-answer-cut":
        note(kind, device.label);
        device.proxy.cutNextPushAnswer();
        return;
      case "postgres-sigkill": {
        if (!pgServer.running) return;
        note(kind, "postgres");
        await pgServer.kill();
        later(rng.int(300, 3_000), async () => {
          note("postgres-restart", "postgres");
          await pgServer.start();
        });
        return;
      }
      case "clock-skew": {
        const sign = rng.chance(0.5) ? -1 : 1;
        const skew = sign * rng.int(60_000, 5 * DAY);
        note(kind, device.label, `${Math.round(skew / 60_000)} min`);
        device.setSkew(skew);
        return;
      }
      case "compaction-away": {
        // A device goes away for longer than the stale window: killed, its rows aged two days
        // (the server's clock cannot be moved), compaction runs past its cursor; back later,
        // it must resync before applying anything.
        if (!device.usable || !pgServer.running) return;
        // A device that has applied something (a device at cursor 0 pulls from 0: no check).
        if ((device.cursors.at(-1) ?? 0) === 0) {
          const applied = devices.filter((d) => d.usable && (d.cursors.at(-1) ?? 0) > 0);
          if (applied.length === 0) return;
          return await inject(kind, rng, rng.pick(applied));
        }
        note(kind, device.label);
        await device.kill();
        // The ACKs it left buffered are written (a compaction flushes every replica's), so
        // none of them makes it look seen a moment ago once its rows are aged.
        await compact(device.userId, `${device.label} flush`);
        await ageDevice(device);
        // The others move past it (and ACK), so the watermark can pass its cursor.
        await advancePeers(device, rng);
        awayCursor.set(device, Number.POSITIVE_INFINITY); // may resync from now on
        await compact(device.userId, device.label);
        later(rng.int(1_000, 6_000), async () => {
          const cursor = persistedCursor(device);
          const watermark = await watermarkOf(device.userId).catch(() => 0);
          if (cursor > 0 && cursor < watermark) awayCursor.set(device, cursor);
          else awayCursor.delete(device);
          note("device-restart", device.label, `cursor ${cursor}, watermark ${watermark}`);
          await device.start();
        });
        return;
      }
      case "compaction-return": {
        // A device away for longer than the stale window comes back: its first ACKs sit in a
        // replica's buffer when compaction runs. The ACK flush before MIN must count them:
        // the watermark may not pass a device seen a second ago. Until it is back (caught up,
        // its ACK answered) it is away: a compaction meanwhile (another fault) may pass it.
        if (!device.usable || !pgServer.running) return;
        const peer = devices.find((d) => d !== device && d.userId === device.userId && d.usable);
        if (!peer) return;
        note(kind, device.label);
        awayCursor.set(device, Number.POSITIVE_INFINITY);
        await device.kill();
        await compact(device.userId, `${device.label} flush`);
        await ageDevice(device);
        device.proxy.heal();
        await device.start();
        await waitUntil(
          async () => {
            const head = await newest(device.userId).catch(() => -1);
            const status = await device.status();
            const acked = Math.max(0, ...device.proxy.ackedOn.values());
            return !!status && status.pendingCount === 0 && status.cursor === head && acked >= head;
          },
          90_000,
          250,
        );
        awayCursor.delete(device);
        // Back: its ACK sits in a replica's buffer (written every 60 s) when compaction runs.
        await advancePeers(peer, rng);
        await compact(device.userId, device.label);
        return;
      }
      case "device-revoke": {
        // A push of it stored but unanswered if the cut comes in time, revoked through
        // devices.revoke while it holds queued edits, then bound anew under a new device id
        // (scenarios.ts).
        if (!device.usable) return;
        note(kind, device.label);
        await revokeRebind(scenarioContext, device, { inFlight: "try" });
        return;
      }
      case "compaction-reconnect": {
        // Compaction while a user's devices reconnect.
        note(kind, device.userId.slice(0, 8));
        for (const d of devices) if (d.userId === device.userId) d.proxy.drop();
        await compact(device.userId, device.userId.slice(0, 8));
        return;
      }
    }
  };

  // Besides the random faults, each of FORCED comes at least once, at a seeded point of the
  // run: the short run must exercise every safeguard the checks stand for.
  // First the safeguard scenarios (each safeguard's situation made on purpose), then the
  // random faults.
  if (options.scenarios !== false) {
    note("scenarios-start", "all", `set-up took ${(at() / 1000).toFixed(1)} s`);
    await runScenarios(scenarioContext, userIds);
  }
  const faultRng = new Rng(seed);
  let slowBusy = false;
  const faultStart = Date.now();
  note("faults-start", "all", `${((faultStart - started) / 1000).toFixed(1)} s after the start`);
  const deadline = faultStart + options.durationMs;
  const span = Math.max(1, deadline - faultStart);
  const forced = FORCED.map((kind, i) => ({
    kind,
    at: faultStart + span * ((i + 0.2 + faultRng.next() * 0.6) / (FORCED.length + 1)),
  }));
  while (Date.now() < deadline) {
    await sleep(
      faultRng.int(Math.round(options.faultGapMs / 2), Math.round(options.faultGapMs * 1.5)),
    );
    if (Date.now() >= deadline) break;
    const isSlow = (k: FaultKind) =>
      k === "compaction-away" || k === "compaction-return" || k === "device-revoke";
    const due = forced.findIndex((f) => f.at <= Date.now() && !(slowBusy && isSlow(f.kind)));
    const kind =
      due >= 0 ? (forced.splice(due, 1)[0]?.kind ?? pickKind(faultRng)) : pickKind(faultRng);
    // The compaction scenarios take many seconds (waits for peers and ACK flushes): they go on
    // in the background, one at a time, while the other faults continue.
    const slow = isSlow(kind);
    if (slow && slowBusy) continue;
    const fault = inject(kind, faultRng).catch((error: unknown) => {
      violations.push(`harness: fault ${kind} failed: ${String(error)}`);
    });
    if (slow) {
      slowBusy = true;
      background.push(fault.finally(() => (slowBusy = false)));
    } else await fault;
  }

  // ---- heal, stop writing, drain -----------------------------------------------------------
  await Promise.allSettled(background); // a compaction scenario still going on
  writing = false;
  await Promise.all(workload);
  await statusPoller;
  await poller;
  const healAt = Date.now();
  note("heal", "all");
  for (const fn of restore) await fn();
  await Promise.allSettled(background);
  if (!pgServer.running) await pgServer.start();
  for (const server of servers) {
    server.resume();
    if (!server.alive) await server.start();
  }
  for (const device of devices) {
    device.proxy.heal();
    device.resume();
    if (!device.alive) await device.start();
  }

  const convergeMs: number[] = [];
  const converged = new Set<DeviceProcess>();
  const drained = await waitUntil(
    async () => {
      for (const device of devices) {
        if (converged.has(device)) continue;
        const status = await statusOf(device);
        if (!status) continue;
        const head = await newest(device.userId).catch(() => -1);
        if (status.pendingCount === 0 && status.cursor === head) {
          converged.add(device);
          convergeMs.push(Date.now() - healAt);
        }
      }
      // A device that uploaded last moved the head: everyone must be at the final head.
      if (converged.size === devices.length) {
        for (const device of devices) {
          const status = await statusOf(device);
          const head = await newest(device.userId).catch(() => -1);
          if (status?.pendingCount !== 0 || status?.cursor !== head) {
            converged.delete(device);
          }
        }
      }
      return converged.size === devices.length;
    },
    180_000,
    1_000,
  );
  if (!drained) {
    for (const device of devices) {
      if (converged.has(device)) continue;
      const status = await device.status();
      violations.push(
        `${device.label}: wedged — not drained and caught up 180 s after healing (${JSON.stringify(status)})`,
      );
    }
  }

  // A fresh reader per user: a new device that pulls everything.
  const readers: DeviceProcess[] = [];
  for (let u = 0; u < options.users; u++) {
    const reader = await makeDevice(u, `u${u}-reader`);
    await reader.start();
    readers.push(reader);
    const head = await newest(reader.userId);
    const caughtUp = await waitUntil(
      async () => (await reader.status())?.cursor === head,
      120_000,
      500,
    );
    if (!caughtUp) violations.push(`${reader.label}: a fresh reader did not reach op ${head}`);
  }

  // ---- checks ------------------------------------------------------------------------------
  for (const server of servers) violations.push(...server.unexpectedExits);
  for (const device of [...devices, ...readers]) await device.stop();
  await Promise.all(servers.map((s) => s.terminate()));
  for (const server of servers)
    violations.push(...server.unexpectedExits.filter((l) => !violations.includes(l)));

  const finalOps = await history.finalScan(dbUrl(), userIds);
  for (const op of history.lateVisible) {
    violations.push(
      `op ${op.id} (user ${op.userId.slice(0, 8)}) became visible after the reader had passed it: a subscriber skips it forever`,
    );
  }
  // Stored exactly once: one row per operation id, one per (device, lamport).
  const byOperation = new Map<string, number[]>();
  const byStamp = new Map<string, number[]>();
  for (const op of history.stored.values()) {
    const a = `${op.userId}/${op.operationId}`;
    byOperation.set(a, [...(byOperation.get(a) ?? []), op.id]);
    const b = `${op.deviceId}/${op.lamportTs}`;
    byStamp.set(b, [...(byStamp.get(b) ?? []), op.id]);
  }
  for (const [key, ids] of byOperation) {
    if (ids.length > 1)
      violations.push(`operation ${key} stored ${ids.length} times (ids ${ids.join(", ")})`);
  }
  for (const [key, ids] of byStamp) {
    if (ids.length > 1)
      violations.push(`device/lamport ${key} stored ${ids.length} times (ids ${ids.join(", ")})`);
  }
  // Ids strictly increase per user in the final table (and are unique).
  const lastId = new Map<string, number>();
  for (const op of finalOps) {
    const before = lastId.get(op.userId) ?? 0;
    if (op.id <= before)
      violations.push(`user ${op.userId.slice(0, 8)}: id ${op.id} after ${before}`);
    lastId.set(op.userId, op.id);
  }

  // Every op a device committed is stored (or re-stamped, or compacted as superseded).
  const storedByOperation = new Map([...history.stored.values()].map((op) => [op.operationId, op]));
  let opsAcknowledged = 0;
  let opsRestamped = 0;
  let opsCompactedAway = 0;
  for (const op of history.recorded.values()) {
    const stored = storedByOperation.get(op.operationId);
    if (stored) {
      opsAcknowledged++;
      if (
        stored.lamportTs !== op.lamportTs ||
        stored.entityId !== op.entityId ||
        canonicalJson(stored.value) !== canonicalJson(op.value)
      ) {
        violations.push(
          `operation ${op.operationId} stored differently from what ${op.deviceId.slice(0, 8)} made`,
        );
      }
      continue;
    }
    const restamp = [...history.stored.values()].some(
      (s) =>
        s.deviceId === op.deviceId &&
        s.entity === op.entity &&
        s.entityId === op.entityId &&
        s.field === op.field &&
        s.op === op.op &&
        s.lamportTs > op.lamportTs &&
        canonicalJson(s.value) === canonicalJson(op.value),
    );
    if (restamp) {
      opsRestamped++;
      continue;
    }
    const userOps = history.opsOf(op.userId);
    if (history.compactedUsers.has(op.userId) && superseded(op, userOps)) {
      opsCompactedAway++;
      continue;
    }
    violations.push(
      `LOST: operation ${op.operationId} (${op.entity} ${op.entityId} ${op.field ?? "*"} = ${JSON.stringify(op.value)}, lamport ${op.lamportTs}) made by ${op.deviceId.slice(0, 8)} was never stored`,
    );
  }

  // Every device's state = a fresh reader's = the LWW fold of the whole history.
  let divergence: string | null = null;
  const viewOf = (device: DeviceProcess): View => {
    const db = openStore(join(device.dataDir, "profiles", "device", "profile.db"));
    try {
      return deviceView(db);
    } finally {
      db.close();
    }
  };
  const describe = (who: string, d: Divergence) =>
    `DIVERGED: ${who}: ${d.key} field ${d.field}: expected ${JSON.stringify(d.expected)}, seen ${JSON.stringify(d.seen)}`;
  for (let u = 0; u < options.users; u++) {
    const userId = userIds[u] ?? "";
    const expected = foldView(history.opsOf(userId));
    for (const device of [...devices, ...readers].filter((d) => d.userId === userId)) {
      const d = firstDivergence(expected, viewOf(device));
      if (d) {
        const line = describe(device.label, d);
        violations.push(line);
        divergence ??= line;
      }
    }
  }

  for (const device of [...devices, ...readers]) await device.proxy.close();
  await pgServer.stop().catch(() => {});
  if (!options.keepWorkDir && violations.length === 0)
    rmSync(workDir, { recursive: true, force: true });

  // A run that wrote or broke (almost) nothing proves nothing: it fails rather than passes.
  const injected = Object.entries(faults).filter(([kind]) => kind !== "token-expiry");
  const faultCount = injected.reduce((sum, [, n]) => sum + n, 0);
  const minimum = Math.max(3, Math.floor(options.durationMs / options.faultGapMs / 3));
  if (history.recorded.size < 20 || faultCount < minimum) {
    violations.push(
      `vacuous run: ${history.recorded.size} ops written and ${faultCount} faults injected (needs 20 and ${minimum}); the machine may be too slow for this size`,
    );
  }
  const cut = [...devices, ...readers].reduce((sum, d) => sum + d.proxy.answersCut, 0);
  if (cut > 0) faults["push-answers-actually-cut"] = cut;
  const opsWritten = history.recorded.size;
  return {
    seed,
    durationMs: options.durationMs,
    users: options.users,
    devicesPerUser: options.devicesPerUser,
    faultGapMs: options.faultGapMs,
    violations,
    faults,
    timeline,
    opsWritten,
    opsAcknowledged,
    opsStored: history.stored.size,
    opsRestamped,
    opsCompactedAway,
    editsFailed,
    resyncs: devices.reduce((sum, d) => sum + d.resyncs, 0),
    convergeMs,
    convergeP50: percentile(convergeMs, 50),
    convergeP99: percentile(convergeMs, 99),
    firstDivergence: divergence,
    workDir,
  };
}
