import { describe, expect, it } from "vitest";
import { resolveDataDir } from "./data-dir.js";

const base = { env: {}, homedir: "/home/ada", cwd: "/work" } as const;

describe("resolveDataDir", () => {
  it("prefers --data-dir, then CHORUS_DATA_DIR, resolving relative paths against cwd", () => {
    const env = { CHORUS_DATA_DIR: "/from/env" };
    expect(resolveDataDir({ ...base, env, platform: "linux", flag: "rel" })).toBe("/work/rel");
    expect(resolveDataDir({ ...base, env, platform: "linux" })).toBe("/from/env");
  });

  it("follows each OS's convention for per-user app data", () => {
    expect(resolveDataDir({ ...base, platform: "linux" })).toBe("/home/ada/.local/share/chorus");
    expect(resolveDataDir({ ...base, platform: "linux", env: { XDG_DATA_HOME: "/xdg" } })).toBe(
      "/xdg/chorus",
    );
    expect(resolveDataDir({ ...base, platform: "darwin" })).toBe(
      "/home/ada/Library/Application Support/Chorus",
    );
    expect(
      resolveDataDir({
        ...base,
        platform: "win32",
        homedir: "C:\\Users\\ada",
        cwd: "C:\\",
        env: { APPDATA: "C:\\Users\\ada\\AppData\\Roaming" },
      }),
    ).toBe("C:\\Users\\ada\\AppData\\Roaming\\Chorus");
  });

  it("ignores an empty CHORUS_DATA_DIR", () => {
    expect(resolveDataDir({ ...base, platform: "linux", env: { CHORUS_DATA_DIR: " " } })).toBe(
      "/home/ada/.local/share/chorus",
    );
  });
});
