import { randomUUID } from "node:crypto";
import type { DeviceTelemetry } from "@chorus/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeviceDiagnostics, readLagHistory } from "../src/diagnostics/telemetry.js";
import { ApiTestbed } from "./support.js";

/*
 * The lag history: sampled when a device's telemetry is written, at most one sample per
 * interval, and bounded per device by count and by age.
 */

let bed: ApiTestbed;
beforeAll(async () => {
  bed = await ApiTestbed.start();
});
afterAll(async () => {
  await bed?.close();
});

function telemetry(cursor: number): DeviceTelemetry {
  return {
    queueDepth: 0,
    oldestPendingAgeMs: null,
    lastError: null,
    quarantinedCount: 0,
    quarantined: [],
    cursor,
    appVersion: "1.0.0",
    protocolVersion: 1,
    clock: bed.nowMs,
  };
}

const op = (field: string) => ({
  operationId: randomUUID(),
  lamportTs: 0,
  entity: "playlist",
  entityId: "p1",
  field,
  op: "set" as const,
  value: field,
});

async function reportAt(
  diagnostics: DeviceDiagnostics,
  device: { id: string; userId: string },
  cursor: number,
) {
  diagnostics.record(device, telemetry(cursor), "report");
  await diagnostics.settle();
}

describe("lag history", () => {
  it("samples ops behind and cursor age from what the server sees, at most once per interval", async () => {
    const userId = await bed.user();
    const deviceId = await bed.device(userId);
    const device = { id: deviceId, userId };
    const ids = await bed.push(
      userId,
      deviceId,
      [1, 2, 3].map((n) => ({ ...op(`f${n}`), lamportTs: n })),
    );
    const diagnostics = new DeviceDiagnostics(bed.prisma, {
      now: bed.clock,
      minReportIntervalMs: 0,
      lagSampleIntervalMs: 60_000,
    });
    await reportAt(diagnostics, device, ids[0] ?? 0);
    bed.nowMs += 10_000;
    // Within the interval: no second sample.
    await reportAt(diagnostics, device, ids[1] ?? 0);
    let history = await readLagHistory(bed.prisma, deviceId, 100);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ cursor: ids[0], opsBehind: 2 });
    bed.nowMs += 60_000;
    // A stored ACK further on than the report wins.
    await bed.storedCursor(userId, deviceId, ids[2] ?? 0);
    await reportAt(diagnostics, device, ids[1] ?? 0);
    history = await readLagHistory(bed.prisma, deviceId, 100);
    expect(history.map((s) => s.opsBehind)).toEqual([2, 0]);
    expect(history[1]).toMatchObject({ cursor: ids[2], cursorAgeMs: 0 });
    expect(history[0]?.cursorAgeMs).toBeGreaterThanOrEqual(0);
  });

  it("keeps at most the configured number of samples per device, the newest", async () => {
    const userId = await bed.user();
    const deviceId = await bed.device(userId);
    const other = await bed.device(userId, "other");
    const diagnostics = new DeviceDiagnostics(bed.prisma, {
      now: bed.clock,
      minReportIntervalMs: 0,
      lagSampleIntervalMs: 1_000,
      lagSamplesKept: 5,
    });
    await reportAt(diagnostics, { id: other, userId }, 0);
    const times: string[] = [];
    for (let i = 0; i < 12; i++) {
      bed.nowMs += 5_000;
      times.push(new Date(bed.nowMs).toISOString());
      await reportAt(diagnostics, { id: deviceId, userId }, 0);
    }
    const history = await readLagHistory(bed.prisma, deviceId, 100);
    expect(history.map((s) => s.at)).toEqual(times.slice(-5));
    // Another device's history is its own.
    expect(await readLagHistory(bed.prisma, other, 100)).toHaveLength(1);
  });

  it("deletes samples older than the retention window", async () => {
    const userId = await bed.user();
    const deviceId = await bed.device(userId);
    const diagnostics = new DeviceDiagnostics(bed.prisma, {
      now: bed.clock,
      minReportIntervalMs: 0,
      lagSampleIntervalMs: 1_000,
      lagRetentionMs: 86_400_000,
    });
    await reportAt(diagnostics, { id: deviceId, userId }, 0);
    bed.nowMs += 12 * 3_600_000;
    await reportAt(diagnostics, { id: deviceId, userId }, 0);
    expect(await readLagHistory(bed.prisma, deviceId, 100)).toHaveLength(2);
    bed.nowMs += 13 * 3_600_000;
    await reportAt(diagnostics, { id: deviceId, userId }, 0);
    const history = await readLagHistory(bed.prisma, deviceId, 100);
    expect(history).toHaveLength(2);
    expect(Date.parse(history[0]?.at ?? "")).toBeGreaterThan(bed.nowMs - 86_400_000);
  });

  it("keeps every sample of the last day, and one per hour before it: the one furthest behind", async () => {
    const userId = await bed.user();
    const deviceId = await bed.device(userId);
    const writer = await bed.device(userId, "writer");
    const diagnostics = new DeviceDiagnostics(bed.prisma, {
      now: bed.clock,
      minReportIntervalMs: 0,
      lagSampleIntervalMs: 60_000,
      lagFullDetailMs: 2 * 3_600_000,
    });
    // Start on the hour, so the first hour holds exactly the first 12 samples.
    bed.nowMs = Math.ceil(bed.nowMs / 3_600_000) * 3_600_000 + 3_600_000;
    const start = bed.nowMs;
    let lamport = 10_000;
    // Three hours and 10 minutes at one sample per 5 minutes (the last at 03:05, so the whole
    // first hour is older than two hours); at 00:20 the device falls 3 ops behind and catches
    // up again.
    for (let minute = 0; minute < 190; minute += 5) {
      bed.nowMs = start + minute * 60_000;
      if (minute === 20) {
        await bed.push(
          userId,
          writer,
          [1, 2, 3].map((n) => ({ ...op(`g${n}`), lamportTs: ++lamport })),
        );
      }
      const newest = (await bed.prisma.syncOp.aggregate({ where: { userId }, _max: { id: true } }))
        ._max.id;
      await reportAt(
        diagnostics,
        { id: deviceId, userId },
        minute === 20 ? 0 : Number(newest ?? 0),
      );
    }
    const history = await readLagHistory(bed.prisma, deviceId, 1_000);
    const hourOf = (s: { at: string }) => Math.floor((Date.parse(s.at) - start) / 3_600_000);
    // Older than two hours (the first hour): one sample, the one 3 ops behind.
    const first = history.filter((s) => hourOf(s) === 0);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({
      opsBehind: 3,
      at: new Date(start + 20 * 60_000).toISOString(),
    });
    // Within two hours of the last sample, and the rest of the hours after the first: every sample.
    expect(history.filter((s) => hourOf(s) >= 1)).toHaveLength(26);
  });
});
