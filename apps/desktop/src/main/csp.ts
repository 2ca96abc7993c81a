/**
 * The renderer's Content-Security-Policy. The renderer loads only its own bundle and talks
 * to nothing but the preload bridge, so production allows nothing else: no inline script,
 * no eval, no network (`connect-src 'none'`), no plugins, no forms, no <base>.
 *
 * Development loosens exactly what Vite needs: the React Refresh preamble and the CSS it
 * injects are inline, and HMR runs over a WebSocket to the dev server. The dev harness (the
 * renderer in a browser, backed by an HTTP server) adds only fetch to its own origin.
 */
export type CspMode = "production" | "development" | "harness";

export function contentSecurityPolicy(mode: CspMode): string {
  const dev = mode === "development";
  const directives: Record<string, string[]> = {
    "default-src": ["'none'"],
    "script-src": dev ? ["'self'", "'unsafe-inline'"] : ["'self'"],
    "style-src": dev ? ["'self'", "'unsafe-inline'"] : ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": dev
      ? ["'self'", "ws://localhost:*", "ws://127.0.0.1:*"]
      : mode === "harness"
        ? ["'self'"]
        : ["'none'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(" ")}`)
    .join("; ");
}
