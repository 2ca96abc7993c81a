import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createProfile,
  listProfiles,
  openProfile,
  profilesRoot,
  selectProfileName,
} from "./profiles.js";
import { readProfileStatus } from "./status.js";
import { makeTempDir } from "./test-support.js";

let temp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  temp = makeTempDir();
});
afterEach(() => temp.remove());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("profiles", () => {
  it("gives each profile its own SQLite file and its own device id", () => {
    const work = createProfile(temp.path, "work");
    const home = createProfile(temp.path, "home");
    expect(work.deviceId).toMatch(UUID);
    expect(home.deviceId).toMatch(UUID);
    expect(work.deviceId).not.toBe(home.deviceId);
    expect(existsSync(join(work.path, "profile.db"))).toBe(true);
    expect(listProfiles(temp.path).map((p) => p.name)).toEqual(["home", "work"]);

    const opened = openProfile(temp.path, "work");
    try {
      expect(opened.deviceId).toBe(work.deviceId);
    } finally {
      opened.close();
    }
  });

  it("refuses a duplicate name and leaves the existing profile untouched", () => {
    const first = createProfile(temp.path, "work");
    expect(() => createProfile(temp.path, "work")).toThrow(
      expect.objectContaining({ code: "profile_exists" }),
    );
    const opened = openProfile(temp.path, "work");
    try {
      expect(opened.deviceId).toBe(first.deviceId);
    } finally {
      opened.close();
    }
    expect(readdirSync(profilesRoot(temp.path))).toEqual(["work"]);
  });

  it("refuses names that are not safe folder names", () => {
    for (const bad of ["", "Work", "../evil", "a/b", ".hidden", "x".repeat(65)]) {
      expect(() => createProfile(temp.path, bad)).toThrow(
        expect.objectContaining({ code: "invalid_profile_name" }),
      );
    }
    expect(listProfiles(temp.path)).toEqual([]);
  });

  it("reports a missing profile with the ones that exist", () => {
    createProfile(temp.path, "work");
    expect(() => openProfile(temp.path, "home")).toThrow(
      expect.objectContaining({
        code: "profile_not_found",
        details: expect.objectContaining({ available: ["work"] }),
      }),
    );
  });

  it("does not list a half-created profile", () => {
    mkdirSync(join(profilesRoot(temp.path), ".creating-123"), { recursive: true });
    mkdirSync(join(profilesRoot(temp.path), "empty"), { recursive: true });
    expect(listProfiles(temp.path)).toEqual([]);
  });

  it("selects the only profile, the requested one, and never guesses between several", () => {
    expect(() => selectProfileName(temp.path, undefined)).toThrow(
      expect.objectContaining({ code: "profile_not_found" }),
    );
    createProfile(temp.path, "work");
    expect(selectProfileName(temp.path, undefined)).toBe("work");
    createProfile(temp.path, "home");
    expect(selectProfileName(temp.path, "home")).toBe("home");
    expect(() => selectProfileName(temp.path, undefined)).toThrow(
      expect.objectContaining({ code: "profile_ambiguous" }),
    );
  });
});

describe("readProfileStatus", () => {
  it("reports device id, clock, pending count, cursor and binding", () => {
    const created = createProfile(temp.path, "work");
    const profile = openProfile(temp.path, "work");
    try {
      const lamport = profile.clock.next();
      profile.db
        .prepare(
          `INSERT INTO sync_pending_op (operation_id, lamport_ts, entity, entity_id, op, created_at)
           VALUES ('op-1', ?, 'playlist', 'p1', 'insert', 0)`,
        )
        .run(lamport);
      expect(readProfileStatus(profile)).toEqual({
        profile: "work",
        deviceId: created.deviceId,
        lamport: 1,
        pendingCount: 1,
        cursor: 0,
        serverUrl: null,
      });
    } finally {
      profile.close();
    }
  });
});
