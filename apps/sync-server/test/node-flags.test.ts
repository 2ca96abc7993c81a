import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  missingNodeFlags,
  missingServerEnv,
  SYNC_SERVER_ENV,
  SYNC_SERVER_NODE_FLAGS,
} from "../src/node-flags.js";

const packageJson = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
) as { scripts: Record<string, string> };

describe("the production V8 flags", () => {
  it("are what `npm start` (npm run serve:sync) starts the built server with, with the allocator settings", () => {
    const env = Object.entries(SYNC_SERVER_ENV).map(([name, value]) => `${name}=${value}`);
    expect(packageJson.scripts.start).toBe(
      `${env.join(" ")} node ${SYNC_SERVER_NODE_FLAGS.join(" ")} dist/main.js`,
    );
  });

  it("are reported missing when a process was started without them", () => {
    expect(missingNodeFlags(["--enable-source-maps"])).toEqual([...SYNC_SERVER_NODE_FLAGS]);
    expect(missingNodeFlags([...SYNC_SERVER_NODE_FLAGS, "--enable-source-maps"])).toEqual([]);
  });
});

describe("the production allocator settings", () => {
  it("limit glibc's malloc to two arenas and a fixed trim threshold", () => {
    expect(SYNC_SERVER_ENV).toEqual({ MALLOC_ARENA_MAX: "2", MALLOC_TRIM_THRESHOLD_: "131072" });
  });

  it("are reported missing when absent or set to another value", () => {
    expect(missingServerEnv({})).toEqual(["MALLOC_ARENA_MAX=2", "MALLOC_TRIM_THRESHOLD_=131072"]);
    expect(missingServerEnv({ ...SYNC_SERVER_ENV, MALLOC_ARENA_MAX: "8" })).toEqual([
      "MALLOC_ARENA_MAX=2",
    ]);
    expect(missingServerEnv({ ...SYNC_SERVER_ENV })).toEqual([]);
  });
});
