import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createProfile } from "@chorus/desktop-sync";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDesktopEngine } from "./engine.js";

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "chorus-desktop-"));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

describe("openDesktopEngine", () => {
  it("creates and opens a 'default' profile on first launch", () => {
    const engine = openDesktopEngine({ dataDir });
    try {
      expect(engine.profileName).toBe("default");
      expect(engine.status()).toMatchObject({ profile: "default", lamport: 0, pendingCount: 0 });
      expect(engine.listProfiles().map((p) => p.name)).toEqual(["default"]);
    } finally {
      engine.close();
    }
  });

  it("opens an existing profile the CLI created, keeping its device id", () => {
    const { deviceId } = createProfile(dataDir, "work");
    const engine = openDesktopEngine({ dataDir });
    try {
      expect(engine.status()).toMatchObject({ profile: "work", deviceId });
      expect(engine.listProfiles().map((p) => p.name)).toEqual(["work"]);
    } finally {
      engine.close();
    }
  });

  it("opens the requested profile, creating it when missing", () => {
    createProfile(dataDir, "work");
    const engine = openDesktopEngine({ dataDir, profile: "qa" });
    try {
      expect(engine.status().profile).toBe("qa");
      expect(engine.listProfiles().map((p) => p.name)).toEqual(["qa", "work"]);
    } finally {
      engine.close();
    }
  });
});
