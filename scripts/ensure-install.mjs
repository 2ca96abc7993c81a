// Installs dependencies when node_modules is missing or older than package-lock.json, so the
// README's two commands work on a fresh clone without a separate install step.
//
// `npm install` from the committed lock, not `npm ci`: our registry mirror lacks the optional
// per-platform binaries of other operating systems (e.g. @biomejs/cli-darwin-arm64), which
// `npm ci` insists on finding in the lock while `npm install` skips them as optional.
// `--no-save` keeps package.json and package-lock.json untouched.
import { execSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";

const marker = "node_modules/.package-lock.json";
const stale =
  !existsSync(marker) || statSync(marker).mtimeMs < statSync("package-lock.json").mtimeMs;

if (stale) {
  console.log("[chorus] installing dependencies (npm install from package-lock.json)…");
  execSync("npm install --no-audit --no-fund --no-save", {
    stdio: "inherit",
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: "1" },
  });
}
