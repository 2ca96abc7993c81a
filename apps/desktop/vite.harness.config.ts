import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";
import { contentSecurityPolicy } from "./src/main/csp.js";

/** The dev harness's CSP: the Electron renderer's policy, plus fetch to its own origin. */
function harnessPolicyTag(): Plugin {
  return {
    name: "chorus:harness-content-security-policy",
    transformIndexHtml: () => [
      {
        tag: "meta",
        attrs: {
          "http-equiv": "Content-Security-Policy",
          content: contentSecurityPolicy("harness"),
        },
        injectTo: "head-prepend",
      },
    ],
  };
}

// The renderer built for a normal browser (src/harness/server.ts serves it): the same React
// app, with window.chorus carried over HTTP instead of the preload.
export default defineConfig({
  root: fileURLToPath(new URL("./src/renderer", import.meta.url)),
  base: "./",
  plugins: [react(), harnessPolicyTag()],
  resolve: { dedupe: ["react", "react-dom"] },
  build: {
    outDir: fileURLToPath(new URL("./out/harness", import.meta.url)),
    emptyOutDir: true,
    rollupOptions: {
      input: fileURLToPath(new URL("./src/renderer/harness.html", import.meta.url)),
    },
  },
});
