import { describe, expect, it } from "vitest";
import { niceCeiling, stepPath } from "@/components/console/chart-geometry";
import { effectiveCursor, staleCountdown } from "@/components/console/device-state";
import { LagHistory, MAX_SAMPLES_PER_DEVICE } from "@/components/console/lag-history";
import { formatBytes, formatDuration } from "@/lib/format-duration";

const DAY = 86_400_000;

describe("the stale countdown", () => {
  const fetchedAt = Date.parse("2026-11-22T10:00:00Z");

  it("counts down from what the server said at fetch time, and flags the device at zero", () => {
    const device = { staleInMs: 5_000, stale: false, revokedAt: null };
    expect(staleCountdown(device, fetchedAt, fetchedAt + 2_000)).toEqual({
      revoked: false,
      stale: false,
      remainingMs: 3_000,
    });
    expect(staleCountdown(device, fetchedAt, fetchedAt + 5_000)).toMatchObject({ stale: true });
  });

  it("believes the server when it says stale, and never flags a revoked device", () => {
    expect(
      staleCountdown({ staleInMs: -DAY, stale: true, revokedAt: null }, fetchedAt, fetchedAt),
    ).toMatchObject({ stale: true, remainingMs: -DAY });
    expect(
      staleCountdown({ staleInMs: -DAY, stale: false, revokedAt: "2026-01-01" }, fetchedAt, 0),
    ).toEqual({ revoked: true });
  });

  it("takes the newer of the stored and the buffered cursor", () => {
    expect(effectiveCursor({ storedCursor: null, bufferedCursor: null })).toBe(0);
    expect(effectiveCursor({ storedCursor: 7, bufferedCursor: null })).toBe(7);
    expect(effectiveCursor({ storedCursor: 7, bufferedCursor: 12 })).toBe(12);
  });
});

describe("the lag history of this session", () => {
  const reading = (id: string, lagOps: number) => ({ id, name: id, lagOps, lagMs: lagOps * 100 });

  it("adds one sample per device per update, ignores a repeated update, and notifies", () => {
    const history = new LagHistory();
    let notified = 0;
    history.subscribe(() => notified++);
    history.record([reading("a", 3), reading("b", 0)], 1_000);
    history.record([reading("a", 3), reading("b", 0)], 1_000);
    history.record([reading("a", 0)], 2_000);
    expect(notified).toBe(2);
    expect(history.getVersion()).toBe(2);
    expect(history.of(["b", "a", "unknown"]).map((s) => [s.deviceId, s.samples])).toEqual([
      ["b", [{ at: 1_000, ops: 0, ms: 0 }]],
      [
        "a",
        [
          { at: 1_000, ops: 3, ms: 300 },
          { at: 2_000, ops: 0, ms: 0 },
        ],
      ],
    ]);
  });

  it("keeps a bounded number of samples per device", () => {
    const history = new LagHistory();
    for (let i = 1; i <= MAX_SAMPLES_PER_DEVICE + 10; i++) history.record([reading("a", i)], i);
    const [series] = history.of(["a"]);
    expect(series?.samples).toHaveLength(MAX_SAMPLES_PER_DEVICE);
    expect(series?.samples[0]?.at).toBe(11);
  });
});

describe("the lag chart's geometry", () => {
  it("rounds the scale up to 1, 2 or 5 times a power of ten", () => {
    expect([0, 1, 3, 7, 12, 450, 1_001].map(niceCeiling)).toEqual([1, 1, 5, 10, 20, 500, 2_000]);
  });

  it("draws steps that hold each value until the next sample, then up to now", () => {
    const path = stepPath(
      [
        { at: 0, value: 2 },
        { at: 10, value: 0 },
      ],
      (at) => at,
      (value) => 100 - value * 10,
      30,
    );
    expect(path).toBe("M0.0 80.0 H10.0 V100.0 H30.0");
    expect(
      stepPath(
        [],
        (at) => at,
        (v) => v,
        0,
      ),
    ).toBe("");
  });
});

describe("durations and sizes in the reader's language", () => {
  it("shows the two largest units in words people read, never '89d23h' or '0s'", () => {
    expect(formatDuration(90 * DAY - 3_600_000, "en")).toBe("89 days, 23 hr");
    expect(formatDuration(125_000, "en")).toBe("2 min, 5 sec");
    expect(formatDuration(-2 * 3_600_000, "en")).toBe("2 hr");
    expect(formatDuration(400, "en")).toBe("400 ms");
    expect(formatDuration(285_000, "en")).toBe("4 min, 45 sec");
    expect(formatDuration(125_000, "de")).toMatch(/2 Min\., 5 Sek\./);
  });

  it("scales bytes by powers of 1000", () => {
    expect(formatBytes(736, "en")).toBe("736 bytes");
    expect(formatBytes(3_456_789, "en")).toBe("3.5 MB");
    expect(formatBytes(12_000, "en")).toBe("12 kB");
  });
});
