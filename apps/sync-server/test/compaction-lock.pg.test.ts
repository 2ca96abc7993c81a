import { randomUUID } from "node:crypto";
import { waitUntil } from "@chorus/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeOps } from "./harness.js";
import { httpClient as http, ProcessBed } from "./processes.js";

/** The runner's cross-replica lock key (packages/api compaction runner). */
const COMPACTION_LOCK_KEY = 0x63686f72;

let bed: ProcessBed;
beforeAll(async () => {
  bed = await ProcessBed.start();
}, 60_000);
afterAll(async () => {
  await bed.close();
});

describe("compaction lock session", () => {
  it("a terminated compaction lock connection does not crash the server; the run fails cleanly and a later run works", async () => {
    const server = await bed.server({ COMPACTION_TIME: "off" });
    const userId = await bed.user();
    const device = await bed.device(userId);
    const entity = randomUUID();
    const pushed = await http(server, device.token).sync.push.mutate({
      ops: makeOps(20, 0, entity),
    });
    await http(server, device.token).sync.ack.mutate({ lastSeenId: pushed.maxId });
    const admin = http(server, await bed.token(await bed.user("admin"), "admin", "web"));

    // Hold the user's push lock so the run waits inside, with its lock session open and idle.
    const holder = new pg.Client({ connectionString: bed.db.url });
    await holder.connect();
    await holder.query("BEGIN");
    await holder.query(
      "SELECT pg_advisory_xact_lock(hashtextextended('chorus:user:' || $1::uuid::text, 0))",
      [userId],
    );
    const run = admin.admin.runCompaction.mutate({ userId }).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );

    let lockPid = 0;
    await waitUntil("the run to hold its lock", async () => {
      const { rows } = await holder.query<{ pid: number }>(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted",
        [COMPACTION_LOCK_KEY],
      );
      lockPid = rows[0]?.pid ?? 0;
      return lockPid !== 0;
    });
    await holder.query("SELECT pg_terminate_backend($1)", [lockPid]);
    // Give the server's client the moment it needs to notice, then let the run go on.
    await waitUntil("the lock session to end", async () => {
      const { rows } = await holder.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [
        lockPid,
      ]);
      return rows.length === 0;
    });
    await holder.query("COMMIT");
    await holder.end();

    const outcome = await run;
    expect(server.running).toBe(true);
    // The run lost its lock: it says so instead of pretending to hold it.
    expect("result" in outcome && outcome.result.outcome).toBe("failed");
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);

    const later = await admin.admin.runCompaction.mutate({ userId });
    expect(later.outcome).toBe("succeeded");
    expect(server.running).toBe(true);
    const runs = await bed.prisma.compactionRun.findMany({ orderBy: { id: "asc" } });
    expect(runs.some((r) => r.outcome === "running")).toBe(false);
  }, 120_000);
});
