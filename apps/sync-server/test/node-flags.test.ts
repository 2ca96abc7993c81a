import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { missingNodeFlags, SYNC_SERVER_NODE_FLAGS } from "../src/node-flags.js";

const packageJson = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
) as { scripts: Record<string, string> };

describe("the production V8 flags", () => {
  it("are what `npm start` (npm run serve:sync) starts the built server with", () => {
    expect(packageJson.scripts.start).toBe(`node ${SYNC_SERVER_NODE_FLAGS.join(" ")} dist/main.js`);
  });

  it("are reported missing when a process was started without them", () => {
    expect(missingNodeFlags(["--enable-source-maps"])).toEqual([...SYNC_SERVER_NODE_FLAGS]);
    expect(missingNodeFlags([...SYNC_SERVER_NODE_FLAGS, "--enable-source-maps"])).toEqual([]);
  });
});
