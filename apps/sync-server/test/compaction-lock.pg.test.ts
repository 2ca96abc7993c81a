import { randomUUID } from "node:crypto";
import { USER_LOCK_STATEMENT } from "@chorus/db";
import { waitUntil } from "@chorus/testing";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { makeOps } from "./harness.js";
import { httpClient as http, useProcessBed } from "./processes.js";

/** The runner's cross-replica lock key (packages/api compaction runner). */
const COMPACTION_LOCK_KEY = 0x63686f72;

const suite = useProcessBed();

describe("compaction lock session", () => {
  it("a terminated compaction lock connection does not crash the server; the run fails cleanly and a later run works", async () => {
    const server = await suite.bed.server({ COMPACTION_TIME: "off" });
    const userId = await suite.bed.user();
    const device = await suite.bed.device(userId);
    const entity = randomUUID();
    const pushed = await http(server, device.token).sync.push.mutate({
      ops: makeOps(20, 0, entity),
    });
    await http(server, device.token).sync.ack.mutate({ lastSeenId: pushed.maxId });
    const admin = http(
      server,
      await suite.bed.token(await suite.bed.user("admin"), "admin", "web"),
    );

    // Hold the user's push lock so the run waits inside, with its lock session open and idle.
    const holder = new pg.Client({ connectionString: suite.bed.db.url });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query(USER_LOCK_STATEMENT, [userId]);
      const run = admin.admin.runCompaction.mutate({ userId }).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      );

      // Watch from a session of its own: inside the holder's transaction the statistics views
      // (pg_stat_activity) keep the snapshot of their first read, so a terminated backend would
      // stay listed there until COMMIT. Look only at this test's database: advisory locks are
      // per database, and other suites run compaction on the same cluster at the same time.
      const observer = new pg.Client({ connectionString: suite.bed.db.url });
      await observer.connect();
      let lockPid = 0;
      try {
        await waitUntil("the run to hold its lock", async () => {
          const { rows } = await observer.query<{ pid: number }>(
            `SELECT pid FROM pg_locks
              WHERE locktype = 'advisory' AND objid = $1 AND granted
                AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
            [COMPACTION_LOCK_KEY],
          );
          lockPid = rows[0]?.pid ?? 0;
          return lockPid !== 0;
        });
        await observer.query("SELECT pg_terminate_backend($1)", [lockPid]);
        await waitUntil("the lock session to end", async () => {
          const { rows } = await observer.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [
            lockPid,
          ]);
          return rows.length === 0;
        });
      } finally {
        await observer.end();
      }
      await holder.query("COMMIT");

      const outcome = await run;
      expect(server.running).toBe(true);
      // The run lost its lock: it says so instead of pretending to hold it.
      expect("result" in outcome && outcome.result.outcome).toBe("failed");
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);

      const later = await admin.admin.runCompaction.mutate({ userId });
      expect(later.outcome).toBe("succeeded");
      expect(server.running).toBe(true);
      const runs = await suite.bed.prisma.compactionRun.findMany({ orderBy: { id: "asc" } });
      expect(runs.some((r) => r.outcome === "running")).toBe(false);
    } finally {
      await holder.end();
    }
  }, 120_000);
});
