import react from "@vitejs/plugin-react";
import { defineConfig } from "electron-vite";
import type { Plugin } from "vite";
import { contentSecurityPolicy } from "./src/main/csp.js";

/** Puts the CSP meta tag first in <head>, strict for builds and loosened only for the dev server. */
function contentSecurityPolicyTag(): Plugin {
  return {
    name: "chorus:content-security-policy",
    transformIndexHtml: (_html, context) => [
      {
        tag: "meta",
        attrs: {
          "http-equiv": "Content-Security-Policy",
          content: contentSecurityPolicy(context.server ? "development" : "production"),
        },
        injectTo: "head-prepend",
      },
    ],
  };
}

export default defineConfig({
  main: {
    build: {
      externalizeDeps: {
        // Workspace packages export TypeScript source, which Electron cannot load: bundle
        // them. better-sqlite3 and @node-rs/argon2 (native addons reached through
        // @chorus/desktop-sync and @chorus/crypto) stay runtime imports so they load their
        // binaries (better-sqlite3 rebuilt for Electron's ABI; argon2 is N-API).
        exclude: [
          "@chorus/desktop-sync",
          "@chorus/i18n",
          "@chorus/protocol",
          "@chorus/auth",
          "@chorus/crypto",
        ],
        include: ["better-sqlite3", "@node-rs/argon2"],
      },
    },
  },
  preload: {
    build: {
      // A sandboxed preload can require nothing but electron: the command table it builds the
      // bridge from (and the zod schemas in it) is bundled.
      externalizeDeps: { exclude: ["@chorus/desktop-sync", "zod"] },
      // A sandboxed preload runs as a classic script: CommonJS, not an ES module.
      rolldownOptions: { output: { format: "cjs" } },
    },
  },
  renderer: {
    plugins: [react(), contentSecurityPolicyTag()],
    // react-query resolves react from the repo root; one copy for the whole bundle, or hooks
    // and context break.
    resolve: { dedupe: ["react", "react-dom"] },
  },
});
