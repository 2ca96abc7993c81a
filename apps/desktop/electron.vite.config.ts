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
        // them. better-sqlite3 (a native addon reached through @chorus/desktop-sync) must
        // stay a runtime import so it loads the binary rebuilt for Electron's ABI.
        exclude: ["@chorus/desktop-sync", "@chorus/i18n", "@chorus/protocol", "@chorus/auth"],
        include: ["better-sqlite3"],
      },
    },
  },
  preload: {
    build: {
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
