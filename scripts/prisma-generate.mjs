// Generates the Prisma client offline. The CLI insists on a schema-engine binary it cannot
// download here; the Prisma 7 client itself needs none (driver adapters), so any executable
// placeholder satisfies the check. A machine with the real engine keeps using it.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) {
  const dir = join(tmpdir(), "chorus-prisma");
  const placeholder = join(dir, "schema-engine-placeholder");
  if (!existsSync(placeholder)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(placeholder, "#!/bin/sh\necho 'schema engine unavailable offline' >&2\nexit 1\n");
    chmodSync(placeholder, 0o755);
  }
  env.PRISMA_SCHEMA_ENGINE_BINARY = placeholder;
}
env.PRISMA_HIDE_UPDATE_MESSAGE = "1";
env.CHECKPOINT_DISABLE = "1";

execFileSync("npx", ["prisma", "generate"], { stdio: "inherit", env });
