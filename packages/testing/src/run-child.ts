import { spawn } from "node:child_process";

/**
 * Runs a command with inherited stdio and answers its exit status (1 when it died on a signal
 * or could not be spawned), without blocking the caller's event loop.
 *
 * Why not `spawnSync`: a process that owns other children through pipes must keep reading
 * them while it waits. `npm test` starts an embedded PostgreSQL whose stderr is a pipe read by
 * the test runner's event loop; while `spawnSync` waited for turbo, nothing read that pipe, it
 * filled (64 KiB of server log), every Postgres process that logged blocked on the write, and
 * the checkpointer with them: each later DROP DATABASE waited for a checkpoint forever and the
 * suites hung in their teardown.
 */
export function runChild(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: "inherit", env });
    child.once("error", (error) => {
      console.error(`[run-child] could not run ${command}: ${error.message}`);
      resolve(1);
    });
    child.once("close", (code) => resolve(code ?? 1));
  });
}
