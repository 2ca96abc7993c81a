import type { NextConfig } from "next";
import createNextIntlPlugin from "next-intl/plugin";

const withNextIntl = createNextIntlPlugin("./src/i18n/request.ts");

const nextConfig: NextConfig = {
  // Our packages ship TypeScript source; Next compiles them with the app.
  transpilePackages: ["@chorus/i18n", "@chorus/auth", "@chorus/db", "@chorus/api"],
  // Pure-Node dependencies of the server code, loaded from node_modules at run time.
  serverExternalPackages: [
    "@prisma/adapter-pg",
    "@node-rs/argon2",
    "rate-limiter-flexible",
    "ioredis",
  ],
  // Built with webpack (`next build --webpack`): our packages import their TypeScript siblings
  // as "./x.js" (ESM style), which Turbopack cannot map to "./x.ts" yet (vercel/next.js#82945).
  webpack(config: {
    resolve: { extensionAlias?: Record<string, string[]> };
    module: { rules: unknown[] };
  }) {
    config.resolve.extensionAlias = {
      ".js": [".ts", ".tsx", ".js"],
      ".mjs": [".mts", ".mjs"],
    };
    // The runbooks page shows docs/runbooks/devices.md: a Markdown file imports as its text.
    config.module.rules.push({ test: /\.md$/, type: "asset/source" });
    return config;
  },
  // forbidden() (the console for non-admins) renders [locale]/forbidden.tsx with HTTP 403.
  experimental: { authInterrupts: true },
  poweredByHeader: false,
  reactStrictMode: true,
  async rewrites() {
    // The App Router does not route dot-folders; the JWKS lives at /api/jwks.
    return [{ source: "/.well-known/jwks.json", destination: "/api/jwks" }];
  },
  async headers() {
    return [
      {
        // No page may be framed: the consent screen must not be clickjacked into an approval.
        source: "/:path*",
        headers: [
          { key: "X-Frame-Options", value: "DENY" },
          { key: "Content-Security-Policy", value: "frame-ancestors 'none'" },
          { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
          { key: "X-Content-Type-Options", value: "nosniff" },
        ],
      },
    ];
  },
};

export default withNextIntl(nextConfig);
