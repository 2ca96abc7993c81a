import { runCli } from "../cli/run.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in-process (the same runCli as the binary), on Linux, with `dir` as its home and
 * working directory, and keeps what it printed.
 */
export async function runCliCaptured(
  args: readonly string[],
  dir: string,
  options: { env?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: options.env ?? {},
    platform: "linux",
    homedir: dir,
    cwd: dir,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { code, stdout, stderr };
}
