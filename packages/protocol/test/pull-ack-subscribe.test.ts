import { describe, expect, it } from "vitest";
import {
  AckInput,
  DEFAULT_PULL_LIMIT,
  MAX_PULL_LIMIT,
  PullInput,
  PullResult,
  SubscribeInput,
} from "../src/index.js";
import { messagesOf, syncOp } from "./fixtures.js";

describe("PullInput", () => {
  it("defaults the limit (and fullResync off) and accepts since = 0", () => {
    expect(PullInput.parse({ since: 0 })).toEqual({
      since: 0,
      limit: DEFAULT_PULL_LIMIT,
      fullResync: false,
    });
  });

  it("refuses a negative since, and a limit outside 1..MAX_PULL_LIMIT", () => {
    expect(messagesOf(PullInput.safeParse({ since: -1 }))).toEqual([
      "cursor must be >= 0 (0 means from the start)",
    ]);
    expect(messagesOf(PullInput.safeParse({ since: 0, limit: 0 }))).toEqual([
      "limit must be at least 1",
    ]);
    expect(messagesOf(PullInput.safeParse({ since: 0, limit: MAX_PULL_LIMIT + 1 }))).toEqual([
      `limit must be at most ${MAX_PULL_LIMIT} (MAX_PULL_LIMIT)`,
    ]);
  });

  it("refuses a since sent as a string: ids are JSON numbers on the wire", () => {
    expect(PullInput.safeParse({ since: "10" }).success).toBe(false);
  });
});

describe("PullResult", () => {
  it("accepts an ascending page whose nextSince is its last id", () => {
    const page = { ops: [syncOp({ id: 3 }), syncOp({ id: 9 })], nextSince: 9, hasMore: true };
    expect(PullResult.safeParse(page).success).toBe(true);
    expect(PullResult.safeParse({ ops: [], nextSince: 9, hasMore: false }).success).toBe(true);
  });

  it("refuses a page out of id order or with a nextSince that skips or repeats ops", () => {
    const unordered = { ops: [syncOp({ id: 9 }), syncOp({ id: 3 })], nextSince: 3, hasMore: false };
    expect(messagesOf(PullResult.safeParse(unordered))).toEqual([
      "ops must be in ascending id order: 3 follows 9",
    ]);
    const skipping = { ops: [syncOp({ id: 3 })], nextSince: 4, hasMore: false };
    expect(messagesOf(PullResult.safeParse(skipping))).toEqual([
      "nextSince must be the id of the last op in the page (3)",
    ]);
  });
});

describe("AckInput", () => {
  it("accepts 0 and positive ids, refuses negative and fractional ones", () => {
    expect(AckInput.safeParse({ lastSeenId: 0 }).success).toBe(true);
    expect(AckInput.safeParse({ lastSeenId: 1234 }).success).toBe(true);
    expect(AckInput.safeParse({ lastSeenId: -1 }).success).toBe(false);
    expect(AckInput.safeParse({ lastSeenId: 1.5 }).success).toBe(false);
  });
});

describe("SubscribeInput", () => {
  it("takes lastEventId as digits (tRPC's tracked id) or a number, and delivers a number", () => {
    expect(SubscribeInput.parse({ lastEventId: "42" })).toEqual({ lastEventId: 42 });
    expect(SubscribeInput.parse({ lastEventId: 42 })).toEqual({ lastEventId: 42 });
  });

  it("treats a missing or null lastEventId as absent", () => {
    expect(SubscribeInput.parse({}).lastEventId).toBeUndefined();
    expect(SubscribeInput.parse({ lastEventId: null }).lastEventId).toBeUndefined();
  });

  it("refuses ids that are not digits, negative, or beyond Number.MAX_SAFE_INTEGER", () => {
    expect(messagesOf(SubscribeInput.safeParse({ lastEventId: "12a" }))).toEqual([
      "lastEventId must be a string of digits or a whole number",
    ]);
    expect(SubscribeInput.safeParse({ lastEventId: -3 }).success).toBe(false);
    expect(SubscribeInput.safeParse({ lastEventId: "9007199254740993" }).success).toBe(false);
  });
});
