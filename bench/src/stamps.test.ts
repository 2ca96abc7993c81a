import { describe, expect, it } from "vitest";
import { Samples, stampsOf } from "./stamps.js";

const delivered = (value: string) =>
  `{"id":1,"result":{"type":"data","id":"42","data":{"id":"42","data":{"id":42,"deviceId":"d","operationId":"o","lamportTs":7,"entity":"track","entityId":"e","field":"title","op":"set","value":${value},"createdAt":"2026-11-22T10:00:00.123Z"}}}}`;

describe("stampsOf", () => {
  it("reads seq, sentAt and createdAt of a delivered op", () => {
    expect(stampsOf(delivered('{"seq":3,"sentAt":1795000000123.456}'))).toEqual({
      seq: 3,
      createdAt: Date.parse("2026-11-22T10:00:00.123Z"),
      sentAt: 1795000000123.456,
      stampedAt: Number.NaN,
    });
  });

  it("reads a negative (warm-up) seq and the baseline's stampedAt", () => {
    const stamps = stampsOf(delivered('{"seq":-1,"stampedAt":12.5}'));
    expect(stamps?.seq).toBe(-1);
    expect(stamps?.stampedAt).toBe(12.5);
  });

  it("ignores messages that are not data or carry no seq", () => {
    expect(stampsOf('{"id":1,"result":{"type":"started"}}')).toBeNull();
    expect(stampsOf(delivered('"plain value"'))).toBeNull();
  });
});

describe("Samples", () => {
  it("keeps at most its capacity and drops NaN", () => {
    const samples = new Samples(3);
    for (const value of [1, Number.NaN, 2, 3, 4]) samples.add(value);
    expect(samples.count).toBe(3);
    expect(samples.summary()).toMatchObject({ count: 3, p50: 2, max: 3 });
  });
});
