import { randomUUID } from "node:crypto";
import { mintAccessToken } from "@chorus/auth";
import { type DeviceEngine, formatAudit, formatDiagnosis, openProfile } from "@chorus/desktop-sync";
import { EngineFleet, FAST_TIMING, makeTempDir, runCli } from "@chorus/desktop-sync/testing";
import { waitUntil } from "@chorus/testing";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TestBackend } from "../support/backend.js";

/*
 * The convergence audit end to end: real engines against the real sync server and Postgres.
 * Equal states match (also after a real compaction left only its survivors below the
 * watermark); a device whose SQLite row was changed behind the engine's back is flagged with
 * that exact entity and field; the console's request and a full resync start audits on their own.
 */

let backend: TestBackend;
let fleet: EngineFleet;
beforeAll(async () => {
  backend = await TestBackend.start({ env: { COMPACTION_STALE_DAYS: "4" } });
});
afterAll(async () => {
  await backend?.close();
});
afterEach(async () => {
  await fleet?.close();
});

type Audits = {
  audits: Array<{
    trigger: string;
    outcome: string;
    reason: string | null;
    cursor: number;
    firstDifference: unknown;
  }>;
  requestedAt: string | null;
};

async function adminCall<T>(path: string, input: unknown, method: "GET" | "POST"): Promise<T> {
  const { token } = await mintAccessToken(backend.key, {
    userId: randomUUID(),
    role: "admin",
    kind: "web",
  });
  const url =
    method === "GET"
      ? `${backend.syncUrl}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`
      : `${backend.syncUrl}/trpc/${path}`;
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(method === "POST" ? { body: JSON.stringify(input) } : {}),
  });
  const body = (await response.json()) as { result?: { data: T }; error?: unknown };
  if (!body.result) throw new Error(`${path} failed: ${JSON.stringify(body.error)}`);
  return body.result.data;
}

const audits = (deviceId: string) =>
  adminCall<Audits>("admin.convergenceAudits", { deviceId, limit: 20 }, "GET");

type Diagnosis = Awaited<ReturnType<DeviceEngine["explain"]>>;
const explain = (deviceId: string) =>
  adminCall<Diagnosis>("admin.explainDevice", { deviceId }, "GET");
const codes = (d: Diagnosis) => d.verdicts.map((v) => v.code);

/** Changes a playlist's name in the profile's SQLite file behind the engine's back. */
function tamper(engine: DeviceEngine, playlistId: string, name: string) {
  const file = new Database(engine.profile.db.name);
  try {
    const changed = file
      .prepare(
        "UPDATE lww_field SET value = ? WHERE entity = 'playlist' AND entity_id = ? AND field = 'name'",
      )
      .run(JSON.stringify(name), playlistId);
    expect(changed.changes).toBe(1);
  } finally {
    file.close();
  }
}

const synced = (engine: DeviceEngine) => {
  const d = engine.diagnostics();
  return d.pendingCount === 0 && d.connection === "connected";
};

async function twoDevices() {
  fleet = new EngineFleet();
  const account = await backend.createAccount();
  const a = fleet.open("a");
  const b = fleet.open("b");
  const devA = await account.device("laptop");
  const devB = await account.device("studio");
  await a.bind(devA.session);
  await b.bind(devB.session);
  await a.start();
  await b.start();
  return { account, a, b, aId: devA.deviceId, bId: devB.deviceId };
}

/** Edits of every kind from both devices: inserts, renames, a delete, a track. */
async function someHistory(a: DeviceEngine, b: DeviceEngine) {
  const road = await a.createPlaylist("Road trip");
  const gone = await a.createPlaylist("Short-lived");
  await a.addTrack({ title: "Song", artist: "Band", album: "Album", durationMs: 200_000 });
  await waitUntil("b has a's playlists", () => b.playlists().length === 2);
  await b.renamePlaylist(road.id, "Road trip, take 2");
  await a.deletePlaylist(gone.id);
  await a.renamePlaylist(road.id, "Road trip, final");
  await waitUntil(
    "both hold the same playlists",
    () =>
      synced(a) &&
      synced(b) &&
      JSON.stringify(a.playlists()) === JSON.stringify(b.playlists()) &&
      a.playlists().length === 1,
  );
  return { road };
}

/** Waits until `engine`'s cursor reached the user's newest op. */
async function caughtUp(engine: DeviceEngine, userId: string) {
  const newest = (await backend.ops(userId)).at(-1)?.id ?? 0;
  await waitUntil("caught up", () => engine.diagnostics().cursor >= newest);
}

describe("convergence audit", () => {
  it("equal states match, before and after a real compaction", async () => {
    const { account, a, b, aId, bId } = await twoDevices();
    const { road } = await someHistory(a, b);
    await caughtUp(a, account.userId);
    await caughtUp(b, account.userId);

    const fromA = await a.auditConvergence();
    const fromB = await b.auditConvergence();
    expect(fromA).toMatchObject({ outcome: "match", reason: null, firstDifference: null });
    expect(fromB).toMatchObject({ outcome: "match", reason: null, firstDifference: null });
    expect(fromA.hash).toBe(fromB.hash);
    expect(fromA.serverHash).toBe(fromA.hash);
    expect(fromA.rows).toBeGreaterThan(3);

    // Compaction deletes superseded ops below both devices' cursors: the server now folds its
    // survivors, and the state it describes is the same.
    await waitUntil("both ACKs stored", async () => {
      const { rows } = await backend.pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM device_sync_cursor WHERE user_id = $1 AND last_seen_id >= $2",
        [account.userId, (await backend.ops(account.userId)).at(-1)?.id ?? 0],
      );
      return Number(rows[0]?.n) === 2;
    });
    const before = (await backend.ops(account.userId)).length;
    await adminCall("admin.runCompaction", { dryRun: false, userId: account.userId }, "POST");
    expect((await backend.ops(account.userId)).length).toBeLessThan(before);
    expect(await a.auditConvergence()).toMatchObject({ outcome: "match", hash: fromA.hash });
    expect(await b.auditConvergence()).toMatchObject({ outcome: "match", hash: fromA.hash });

    // A later edit moves both to a new, again equal, state.
    await b.renamePlaylist(road.id, "After compaction");
    await waitUntil("b drained", () => synced(b));
    await caughtUp(a, account.userId);
    await caughtUp(b, account.userId);
    const later = await a.auditConvergence();
    expect(later.outcome).toBe("match");
    expect(later.hash).not.toBe(fromA.hash);
    expect((await audits(aId)).audits.map((x) => x.outcome)).toEqual(["match", "match", "match"]);
    expect((await audits(bId)).audits[0]).toMatchObject({ trigger: "on_demand", outcome: "match" });
  });

  it("a row changed on the device behind the engine's back is flagged with that entity and field", async () => {
    const { account, a, b, aId } = await twoDevices();
    const { road } = await someHistory(a, b);
    await caughtUp(a, account.userId);

    // Another connection to the profile's SQLite file changes the register's value: no op,
    // no capture, nothing the engine knows of.
    const file = new Database(a.profile.db.name);
    try {
      const changed = file
        .prepare(
          "UPDATE lww_field SET value = ? WHERE entity = 'playlist' AND entity_id = ? AND field = 'name'",
        )
        .run(JSON.stringify("Tampered"), road.id);
      expect(changed.changes).toBe(1);
    } finally {
      file.close();
    }

    const audit = await a.auditConvergence();
    expect(audit.outcome).toBe("mismatch");
    expect(audit.firstDifference).toMatchObject({
      entity: "playlist",
      entityId: road.id,
      field: "name",
      device: { value: '"Tampered"' },
      server: { value: '"Road trip, final"' },
    });
    expect(formatAudit(audit)).toContain(`first difference: playlist ${road.id} field name`);
    // The console reads the same from the server's record.
    const [stored] = (await audits(aId)).audits;
    expect(stored).toMatchObject({
      outcome: "mismatch",
      firstDifference: { entity: "playlist", entityId: road.id, field: "name" },
    });
    // The other device was not touched: it still matches.
    await caughtUp(b, account.userId);
    expect((await b.auditConvergence()).outcome).toBe("match");
  });

  it("a failed audit leads the device's diagnosis, names the field and what to do, until a full resync clears it", async () => {
    const { account, a, b, aId } = await twoDevices();
    const { road } = await someHistory(a, b);
    await caughtUp(a, account.userId);
    await waitUntil("a in sync before", async () => codes(await explain(aId)).join() === "in_sync");

    tamper(a, road.id, "Tampered");
    // Positions are all fine: only the audit can tell, and until it runs nothing says otherwise.
    expect(codes(await explain(aId))).toEqual(["in_sync"]);
    expect((await a.auditConvergence()).outcome).toBe("mismatch");

    const flagged = await explain(aId);
    expect(codes(flagged)).not.toContain("in_sync");
    const [headline] = flagged.verdicts;
    expect(headline).toMatchObject({
      code: "audit_mismatch",
      severity: "problem",
      runbook: "convergence-audit-mismatch",
      difference: {
        entity: "playlist",
        entityId: road.id,
        field: "name",
        device: { value: '"Tampered"' },
        server: { value: '"Road trip, final"' },
      },
    });
    // The owner's side (/account) and the device's own (status --explain) say the same.
    const self = await a.explain();
    expect(self.verdicts[0]?.code).toBe("audit_mismatch");
    const text = formatDiagnosis(self);
    expect(text).toContain("data differs from the server");
    expect(text).toContain(`first at playlist ${road.id} field name`);
    expect(text).toContain("run a full resync (chorus-device resync)");
    expect(text).toContain("What to do: docs/runbooks/devices.md#convergence-audit-mismatch");

    // An audit that could not compare (a change waiting to upload) says nothing new: still flagged.
    await a.stop();
    await a.createPlaylist("Made while stopped");
    expect((await a.auditConvergence()).outcome).toBe("not_comparable");
    expect(codes(await explain(aId))[0]).toBe("audit_mismatch");
    await a.start();
    await waitUntil("a drained", () => synced(a));

    // The runbook's remedy: a full resync rebuilds the state from the server and audits it.
    const { audit } = await a.resync();
    expect(audit).toMatchObject({ outcome: "match", firstDifference: null });
    expect(a.playlists().find((p) => p.id === road.id)?.name).toBe("Road trip, final");
    expect(a.playlists().map((p) => p.name)).toContain("Made while stopped");
    expect((await audits(aId)).audits[0]).toMatchObject({ trigger: "resync", outcome: "match" });
    await waitUntil(
      "a in sync after the resync",
      async () => codes(await explain(aId)).join() === "in_sync",
    );
  });

  it("a full resync whose audit could not compare still clears an older mismatch", async () => {
    const { account, a, b, aId } = await twoDevices();
    const { road } = await someHistory(a, b);
    await caughtUp(a, account.userId);
    tamper(a, road.id, "Tampered again");
    expect((await a.auditConvergence()).outcome).toBe("mismatch");
    expect(codes(await explain(aId))[0]).toBe("audit_mismatch");
    // The audit a resync runs right after rebuilding can find a change the user made meanwhile
    // still waiting to upload, and be recorded as not comparable (timing that cannot be forced
    // here, so the record is written as the server writes it). The rebuild replaced the state
    // the mismatch was about: the verdict goes.
    await backend.pool.query(
      `INSERT INTO device_convergence_audit (device_id, user_id, trigger, cursor, pending_ops,
         device_hash, device_rows, outcome, reason)
       VALUES ($1, $2, 'resync', 0, 1, $3, 0, 'not_comparable', 'pending_ops')`,
      [aId, account.userId, "0".repeat(64)],
    );
    expect(codes(await explain(aId))).not.toContain("audit_mismatch");
  });

  it("a queued change makes the audit not comparable instead of a false mismatch", async () => {
    const { a, aId } = await twoDevices();
    await a.stop();
    await a.createPlaylist("Not uploaded yet");
    const audit = await a.auditConvergence();
    expect(audit).toMatchObject({ outcome: "not_comparable", reason: "pending_ops" });
    expect((await audits(aId)).audits[0]).toMatchObject({ reason: "pending_ops" });
  });

  it("runs when the console asks, and after a full resync, on its own", async () => {
    fleet = new EngineFleet();
    const account = await backend.createAccount();
    const devA = await account.device("laptop");
    const devB = await account.device("studio");
    const a = fleet.open("a", { timing: { ...FAST_TIMING, telemetryMs: 500 } });
    const b = fleet.open("b");
    await a.bind(devA.session);
    await b.bind(devB.session);
    await a.start();
    await b.start();
    await a.createPlaylist("Asked for");
    await waitUntil("both synced", () => synced(a) && synced(b) && b.playlists().length === 1);

    // The console's button: the device learns it from the answer to its next report.
    await adminCall("admin.requestConvergenceAudit", { deviceId: devA.deviceId }, "POST");
    expect((await audits(devA.deviceId)).requestedAt).not.toBeNull();
    await waitUntil("a requested audit arrived", async () => {
      const found = await audits(devA.deviceId);
      return found.audits.some((x) => x.trigger === "requested") && found.requestedAt === null;
    });
    expect((await audits(devA.deviceId)).audits[0]).toMatchObject({
      trigger: "requested",
      outcome: "match",
    });

    // b falls below the watermark: its next start resyncs, and audits the rebuilt state.
    await b.stop();
    for (let i = 0; i < 3; i++) await a.createPlaylist(`While b was away ${i}`);
    await waitUntil("a drained", () => synced(a));
    const ops = await backend.ops(account.userId);
    await backend.setWatermark(account.userId, ops.at(-1)?.id ?? 0);
    await b.start();
    await waitUntil("b resynced", () => b.playlists().length === 4 && synced(b));
    await waitUntil("b's resync audit arrived", async () =>
      (await audits(devB.deviceId)).audits.some((x) => x.trigger === "resync"),
    );
    const resync = (await audits(devB.deviceId)).audits.find((x) => x.trigger === "resync");
    expect(resync).toMatchObject({ outcome: "match", cursor: ops.at(-1)?.id });
  });

  it("the CLI's audit prints the first difference and exits 1 on a mismatch", async () => {
    const temp = makeTempDir();
    try {
      const account = await backend.createAccount();
      const { deviceId } = await account.device("cli");
      const token = await backend.mint(account.userId, deviceId);
      let stdout = "";
      const io = {
        stdout: (t: string) => {
          stdout += t;
        },
        stderr: () => {},
        env: {},
        platform: "linux" as const,
        homedir: temp.path,
        cwd: temp.path,
      };
      const base = ["--data-dir", temp.path, "--profile", "cli"];
      expect(await runCli(["profile", "create", "cli", "--data-dir", temp.path], io)).toBe(0);
      const bind = ["bind-token", ...base, "--sync-url", backend.syncUrl, "--token", token];
      expect(await runCli(bind, io)).toBe(0);
      expect(await runCli(["playlist", "create", "Mixtape", ...base], io)).toBe(0);
      // The one-shot edit uploaded before exiting; the CLI does not follow the server, so its
      // cursor is behind its own op: the server counts the device's own later ops in.
      stdout = "";
      expect(await runCli(["audit", ...base], io)).toBe(0);
      expect(stdout).toContain("match: this device holds exactly");

      const profile = openProfile(temp.path, "cli");
      try {
        profile.db
          .prepare("UPDATE lww_field SET value = ? WHERE entity = 'playlist' AND field = 'name'")
          .run(JSON.stringify("Mixtape (edited by hand)"));
      } finally {
        profile.close();
      }
      stdout = "";
      expect(await runCli(["audit", ...base], io)).toBe(1);
      expect(stdout).toContain("MISMATCH");
      expect(stdout).toMatch(/first difference: playlist \S+ field name/);
      expect(stdout).toContain('this device: "Mixtape (edited by hand)"');
      expect(stdout).toContain('server:      "Mixtape"');
    } finally {
      temp.remove();
    }
  });
});
