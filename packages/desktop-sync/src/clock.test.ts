import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createProfile, openProfile } from "./profiles.js";
import { makeTempDir } from "./test-support.js";

let temp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  temp = makeTempDir();
  createProfile(temp.path, "main");
});
afterEach(() => temp.remove());

describe("LamportClock", () => {
  it("starts at 0 and hands out strictly increasing values", () => {
    const profile = openProfile(temp.path, "main");
    try {
      expect(profile.clock.current()).toBe(0);
      const values = Array.from({ length: 5 }, () => profile.clock.next());
      expect(values).toEqual([1, 2, 3, 4, 5]);
      expect(profile.clock.current()).toBe(5);
    } finally {
      profile.close();
    }
  });

  it("persists across a reopen of the profile", () => {
    const first = openProfile(temp.path, "main");
    first.clock.next();
    first.clock.next();
    first.close();

    const reopened = openProfile(temp.path, "main");
    try {
      expect(reopened.clock.current()).toBe(2);
      expect(reopened.clock.next()).toBe(3);
    } finally {
      reopened.close();
    }
  });

  it("observe raises the floor so the next value exceeds the remote one", () => {
    const profile = openProfile(temp.path, "main");
    try {
      profile.clock.next();
      expect(profile.clock.observe(100)).toBe(100);
      expect(profile.clock.next()).toBe(101);
    } finally {
      profile.close();
    }
  });

  it("observe never lowers the clock", () => {
    const profile = openProfile(temp.path, "main");
    try {
      profile.clock.observe(50);
      expect(profile.clock.observe(7)).toBe(50);
      expect(profile.clock.next()).toBe(51);
    } finally {
      profile.close();
    }
  });

  it("rejects a remote value that is not a non-negative integer", () => {
    const profile = openProfile(temp.path, "main");
    try {
      for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
        expect(() => profile.clock.observe(bad)).toThrow(
          expect.objectContaining({ code: "invalid_lamport" }),
        );
      }
      expect(profile.clock.current()).toBe(0);
    } finally {
      profile.close();
    }
  });

  it("rolls back with the caller's transaction: a failed write consumes no value", () => {
    const profile = openProfile(temp.path, "main");
    try {
      const writeAndFail = profile.db.transaction(() => {
        profile.clock.next();
        throw new Error("domain write failed");
      });
      expect(() => writeAndFail()).toThrow("domain write failed");
      expect(profile.clock.next()).toBe(1);
    } finally {
      profile.close();
    }
  });

  it("two connections to one profile never hand out the same value", () => {
    const a = openProfile(temp.path, "main");
    const b = openProfile(temp.path, "main");
    try {
      const seen = new Set<number>();
      for (let i = 0; i < 20; i++) {
        seen.add(a.clock.next());
        seen.add(b.clock.next());
      }
      expect(seen.size).toBe(40);
      expect(Math.max(...seen)).toBe(40);
    } finally {
      a.close();
      b.close();
    }
  });
});
