#!/usr/bin/env node
// The chorus-device command: runs the CLI bundled in dist/ by tsup (plain JavaScript, so it
// starts without a TypeScript loader), or says how to build it when it is missing.
import { existsSync } from "node:fs";

const entry = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    "chorus-device is not built yet: run `npm run build -w @chorus/desktop-sync` (npm start builds it too)\n",
  );
  process.exit(1);
}
await import(entry.href);
