import { fileURLToPath } from "node:url";

/*
 * Test support for suites outside this package that drive real engines (the cross-process
 * system tests in system-tests/): engines on temp SQLite files, the CLI entry, queue
 * inspection. Test-only; nothing at run time imports it.
 */
export { checkCommandLine, runCli } from "../cli/run.js";
export { LibraryState } from "../library-state.js";
export { allPending, enqueue } from "../queue.js";
export { createSyncClient } from "../sync/client.js";
export { Drain } from "../sync/drain.js";
export type { SyncLoop } from "../sync/sync-loop.js";
export { makeTempDir } from "../test-support.js";
export { type CliRun, runCliCaptured } from "./cli.js";
export { EngineFleet, FAST_TIMING } from "./engines.js";

/** src/cli.ts, for tests that run the CLI as its own process (`node --import tsx`). */
export const CLI_ENTRY = fileURLToPath(new URL("../cli.ts", import.meta.url));
