import { mkdirSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

/**
 * The children run bundled, as production runs the sync server (apps/sync-server's tsup build)
 * and a desktop its engine (packages/desktop-sync's): the workspace packages are bundled in,
 * npm packages are loaded from node_modules. Running them through the tsx loader instead would
 * measure its transform: tsx keeps every function's name with a wrapper call (esbuild's
 * `keepNames`), about 2% of the sync server's CPU in a profile of section 2, which production
 * does not pay.
 *
 * The bundles go to bench/dist/child/, at the same depth below the repository root as the
 * sources they are built from, so a path a package finds relative to its own file (the
 * migrations directory) resolves the same.
 */
const OUT_DIR = new URL("../dist/child/", import.meta.url);

/** Bare imports other than the workspace's own packages stay imports of node_modules. */
const npmPackagesExternal: Plugin = {
  name: "npm-packages-external",
  setup(plugin) {
    plugin.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith("@chorus/") ? undefined : { path: args.path, external: true },
    );
  },
};

const built = new Map<string, Promise<URL>>();

/** The bundle of a child script (built once per run): its URL, to fork with plain node. */
export function bundledChild(script: URL): Promise<URL> {
  let bundle = built.get(script.href);
  if (!bundle) {
    bundle = buildChild(script);
    built.set(script.href, bundle);
  }
  return bundle;
}

async function buildChild(script: URL): Promise<URL> {
  mkdirSync(OUT_DIR, { recursive: true });
  const out = new URL(`${basename(script.pathname).replace(/\.ts$/, "")}.mjs`, OUT_DIR);
  await build({
    entryPoints: [fileURLToPath(script)],
    outfile: fileURLToPath(out),
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: true,
    logLevel: "warning",
    plugins: [npmPackagesExternal],
  });
  return out;
}
