import { runCli } from "@chorus/desktop-sync/testing";

export interface CliResult {
  code: number;
  /** The last line of stdout, parsed (the command's `--json` answer), or null. */
  json: unknown;
  stderr: string;
}

/**
 * `chorus-device` in-process on the profiles under `dir` (its data dir and home), with
 * `--json`: `cli` answers the exit code, the parsed answer and stderr; `ok` throws with the
 * command's stderr unless it exited 0, and answers the parsed answer.
 */
export function jsonCli(dir: () => string) {
  async function cli(args: string[]): Promise<CliResult> {
    let stdout = "";
    let stderr = "";
    const code = await runCli([...args, "--data-dir", dir(), "--json"], {
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
      },
      env: {},
      platform: "linux",
      homedir: dir(),
      cwd: dir(),
    });
    const last = stdout.trim().split("\n").at(-1);
    return { code, json: last ? JSON.parse(last) : null, stderr };
  }
  async function ok<T = Record<string, unknown>>(args: string[]): Promise<T> {
    const result = await cli(args);
    if (result.code !== 0) throw new Error(`chorus-device ${args.join(" ")}: ${result.stderr}`);
    return result.json as T;
  }
  return { cli, ok };
}
