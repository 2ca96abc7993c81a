import { defineConfig } from "tsup";

export default defineConfig({
  entry: { cli: "src/cli.ts" },
  format: ["esm"],
  platform: "node",
  target: "node20",
  outDir: "dist",
  clean: true,
  sourcemap: true,
  // The shebang in src/cli.ts is kept by tsup, which also marks dist/cli.js executable.
  // better-sqlite3 and @node-rs/argon2 are native addons: loaded from node_modules, never bundled.
  external: ["better-sqlite3", "@node-rs/argon2"],
  // Workspace packages export TypeScript source, which plain Node cannot load at run time.
  noExternal: [/^@chorus\//],
});
