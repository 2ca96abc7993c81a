import { defineConfig } from "tsup";

// Workspace packages are TypeScript sources: bundle them in; keep npm dependencies external.
export default defineConfig({
  entry: ["src/main.ts"],
  format: ["esm"],
  platform: "node",
  target: "node20",
  sourcemap: true,
  clean: true,
  skipNodeModulesBundle: true,
  noExternal: [/^@chorus\//],
});
