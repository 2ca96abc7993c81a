import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  readThroughputHistory,
  THROUGHPUT_RETENTION_MS,
  ThroughputHistory,
} from "../src/diagnostics/throughput.js";
import { ApiTestbed } from "./support.js";

/*
 * The throughput history: each replica's pushed and delivered ops per interval, in PostgreSQL;
 * minutes older than a day merged into hours, nothing older than 30 days kept, and the console
 * reading every replica's rows as one rate per minute (or hour).
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let bed: ApiTestbed;
beforeAll(async () => {
  bed = await ApiTestbed.start();
});
afterAll(async () => {
  await bed?.close();
});

async function rows(replica: string) {
  const found = await bed.prisma.$queryRaw<
    { at: Date; interval_ms: number; ops_pushed: bigint; ops_delivered: bigint }[]
  >`SELECT at, interval_ms, ops_pushed, ops_delivered FROM throughput_sample
     WHERE replica = ${replica} ORDER BY at`;
  return found.map((r) => ({
    at: r.at.getTime(),
    intervalMs: r.interval_ms,
    pushed: Number(r.ops_pushed),
    delivered: Number(r.ops_delivered),
  }));
}

describe("throughput history", () => {
  it("writes what was counted in each interval, and zeros when nothing moved", async () => {
    const replica = `r-${randomUUID()}`;
    // Whole hours, so the merge below sees whole hours.
    bed.nowMs = Math.floor(Date.now() / HOUR) * HOUR;
    const history = new ThroughputHistory(bed.prisma, { replica, now: bed.clock });
    history.opsPushed(30);
    history.opsDelivered(90);
    bed.nowMs += MINUTE;
    await history.sample();
    bed.nowMs += MINUTE;
    await history.sample();
    history.opsPushed(18);
    bed.nowMs += 90_000;
    await history.stop();
    const start = bed.nowMs - 3.5 * MINUTE;
    expect(await rows(replica)).toEqual([
      { at: start + MINUTE, intervalMs: MINUTE, pushed: 30, delivered: 90 },
      { at: start + 2 * MINUTE, intervalMs: MINUTE, pushed: 0, delivered: 0 },
      { at: start + 3.5 * MINUTE, intervalMs: 90_000, pushed: 18, delivered: 0 },
    ]);
    // As rates: 30 ops in a minute is 0.5/s, 18 in a minute and a half 0.2/s.
    const points = await readThroughputHistory(bed.prisma, {
      sinceMs: HOUR,
      now: new Date(bed.nowMs),
    });
    const mine = points.filter((p) => Date.parse(p.at) > start);
    expect(mine.map((p) => [p.pushedPerSec, p.deliveredPerSec])).toEqual([
      [0.5, 1.5],
      [0, 0],
      [0.2, 0],
    ]);
  });

  it("adds up replicas' rates per minute; a replica's several rows in one minute are one rate, not a sum", async () => {
    await bed.prisma.$executeRaw`DELETE FROM throughput_sample`;
    const at = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;
    for (const [replica, pushed] of [
      ["a", 60],
      ["b", 120],
    ] as const) {
      bed.nowMs = at - MINUTE;
      const history = new ThroughputHistory(bed.prisma, { replica, now: bed.clock });
      history.opsPushed(pushed);
      history.opsDelivered(pushed * 2);
      // Replicas sample at their own moments within the same minute.
      bed.nowMs = at + (replica === "a" ? 5_000 : 40_000);
      await history.stop();
    }
    // a samples more often than once a minute: its second row of the minute is part of the
    // same rate (its ops over its time), not a rate added on top.
    bed.nowMs = at + 5_000;
    const again = new ThroughputHistory(bed.prisma, { replica: "a", now: bed.clock });
    again.opsPushed(35);
    again.opsDelivered(70);
    bed.nowMs = at + 40_000;
    await again.stop();
    const points = await readThroughputHistory(bed.prisma, {
      sinceMs: HOUR,
      now: new Date(at + MINUTE),
    });
    expect(points).toHaveLength(1);
    const [point] = points;
    expect(point?.at).toBe(new Date(at).toISOString());
    // a: 60 + 35 ops over 65 + 35 s; b: 120 ops over 100 s.
    expect(point?.intervalMs).toBe(MINUTE);
    expect(point?.pushedPerSec).toBeCloseTo(95 / 100 + 120 / 100, 6);
    expect(point?.deliveredPerSec).toBeCloseTo(190 / 100 + 240 / 100, 6);
  });

  it("merges minutes older than a day into hours (sums kept), and drops what is past 30 days", async () => {
    await bed.prisma.$executeRaw`DELETE FROM throughput_sample`;
    const replica = "merging";
    const other = "another-replica";
    const origin = Math.floor(Date.now() / HOUR) * HOUR - 10 * 24 * HOUR;
    bed.nowMs = origin;
    const history = new ThroughputHistory(bed.prisma, { replica, now: bed.clock });
    // Two hours of minutes, 10 days ago: 1 op pushed and 2 delivered per minute.
    for (let i = 0; i < 120; i++) {
      history.opsPushed(1);
      history.opsDelivered(2);
      bed.nowMs += MINUTE;
      await history.sample();
    }
    expect(await rows(replica)).toHaveLength(120);
    // Another replica's minute in the same hours.
    await bed.prisma.$executeRaw`
      INSERT INTO throughput_sample (replica, at, interval_ms, ops_pushed, ops_delivered)
      VALUES (${other}, ${new Date(origin + 30 * MINUTE)}, ${MINUTE}, 7, 7)`;

    // Two days on, the replica (restarted) writes its first sample: the old minutes merge.
    bed.nowMs = origin + 2 * 24 * HOUR;
    const later = new ThroughputHistory(bed.prisma, { replica, now: bed.clock });
    later.opsPushed(5);
    bed.nowMs += MINUTE;
    await later.sample();
    expect(await rows(replica)).toEqual([
      { at: origin + HOUR, intervalMs: HOUR, pushed: 60, delivered: 120 },
      { at: origin + 2 * HOUR, intervalMs: HOUR, pushed: 60, delivered: 120 },
      { at: bed.nowMs, intervalMs: MINUTE, pushed: 5, delivered: 0 },
    ]);
    // A replica never merges another's minutes.
    expect(await rows(other)).toHaveLength(1);
    // Read back, the merged hours are hourly points at the same rate (1 op/min = 1/60 per s).
    const points = await readThroughputHistory(bed.prisma, {
      sinceMs: 30 * 24 * HOUR,
      now: new Date(bed.nowMs),
    });
    const hourly = points.filter((p) => p.intervalMs === HOUR);
    expect(hourly.map((p) => p.at)).toEqual([
      new Date(origin + HOUR).toISOString(),
      new Date(origin + 2 * HOUR).toISOString(),
    ]);
    expect(hourly[0]?.pushedPerSec).toBeCloseTo(60 / 3600, 9);

    // Past 30 days after the first hour: that hour is gone, and so is every replica's row of it.
    bed.nowMs = origin + HOUR + THROUGHPUT_RETENTION_MS + 5 * MINUTE;
    const latest = new ThroughputHistory(bed.prisma, { replica, now: bed.clock });
    bed.nowMs += MINUTE;
    await latest.sample();
    const left = (await rows(replica)).map((r) => r.at);
    expect(left).not.toContain(origin + HOUR);
    expect(left).toContain(origin + 2 * HOUR);
    expect(await rows(other)).toEqual([]);
  });

  it("keeps the counts of a failed write for the next one", async () => {
    const replica = `r-${randomUUID()}`;
    const errors: unknown[] = [];
    bed.nowMs = Date.now();
    const history = new ThroughputHistory(bed.prisma, {
      replica,
      now: bed.clock,
      onWriteError: (error) => errors.push(error),
    });
    history.opsPushed(4);
    bed.nowMs += MINUTE;
    // The table is out of reach for a moment.
    await bed.prisma.$executeRaw`ALTER TABLE throughput_sample RENAME TO throughput_sample_away`;
    try {
      await history.sample();
    } finally {
      await bed.prisma.$executeRaw`ALTER TABLE throughput_sample_away RENAME TO throughput_sample`;
    }
    expect(errors).toHaveLength(1);
    history.opsPushed(1);
    bed.nowMs += MINUTE;
    await history.stop();
    expect(await rows(replica)).toEqual([
      { at: bed.nowMs, intervalMs: 2 * MINUTE, pushed: 5, delivered: 0 },
    ]);
  });
});
