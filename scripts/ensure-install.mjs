// Installs dependencies when node_modules is missing or older than package-lock.json, so the
// README's two commands work on a fresh clone without a separate install step.
import { execSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";

const marker = "node_modules/.package-lock.json";
const stale =
  !existsSync(marker) || statSync(marker).mtimeMs < statSync("package-lock.json").mtimeMs;

if (stale) {
  console.log("[chorus] installing dependencies (npm ci)…");
  execSync("npm ci --no-audit --no-fund", {
    stdio: "inherit",
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: "1" },
  });
}
