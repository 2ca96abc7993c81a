import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh folder per test, removed afterwards; tests use real SQLite files in it. */
export function makeTempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), "chorus-desktop-sync-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
