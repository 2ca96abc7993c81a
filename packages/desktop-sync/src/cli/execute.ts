import { z } from "zod";
import type { ErasedCommand } from "../commands/index.js";
import { inputSchema } from "../commands/schemas.js";
import { refuseIfRevoked, waitUntil } from "../commands/waiting.js";
import { EngineError } from "../errors.js";
import { UsageError } from "./args.js";
import { UPDATE_REQUIRED } from "./format.js";
import { CliHost, type CliHostOptions } from "./host.js";
import type { CliCommand } from "./usage.js";

/**
 * Runs one table command in this CLI process: the command line's own rule, the table's input
 * schema, what the command's kind asks around `run` (load first, upload after, refuse on a
 * revoked device), then the printing. Resolves to the exit code.
 */
/** The command's input as its table checks it (its own check, then its schema), or why not. */
export function checkedInput(command: CliCommand, raw: Record<string, unknown> | undefined) {
  const { cli } = command as unknown as ErasedCommand & { cli: NonNullable<ErasedCommand["cli"]> };
  const problem = cli.check?.(raw ?? {});
  if (problem) throw new UsageError(problem);
  const parsed = inputSchema(command).safeParse(raw);
  if (!parsed.success) {
    throw new EngineError(cli.invalidCode ?? "invalid_input", z.prettifyError(parsed.error), {});
  }
  return parsed.data;
}

export async function executeCommand(
  command: CliCommand,
  raw: Record<string, unknown> | undefined,
  options: CliHostOptions,
): Promise<number> {
  const { cli } = command as unknown as ErasedCommand & { cli: NonNullable<ErasedCommand["cli"]> };
  const input = checkedInput(command, raw);
  const host = new CliHost(options);
  try {
    if (cli.kind === "account") refuseIfRevoked(host);
    if (cli.kind === "read" && host.engine.mode() === "server") await loadServerState(host);
    // Server-connected mode writes through the server: the library must be loaded first.
    if (cli.kind === "edit" && host.engine.mode() === "server") {
      refuseIfRevoked(host);
      await host.engine.start();
    }
    await cli.prepare?.(host, input);
    const result = await (command as unknown as ErasedCommand).run(host, input);
    cli.settle?.(host, result);
    const printed = cli.print(result, input, host);
    if (printed && cli.kind === "edit") {
      const uploaded = host.engine.mode() === "server" || (await uploadAfterEdit(host));
      // Hybrid and Local keep the edit here: it is made, and uploads after a new sign-in.
      if (host.engine.revokedAt()) host.warn(`warning: ${host.engine.revokedError().message}\n`);
      options.print(
        { ...(printed.json as object), uploaded },
        `${printed.human}${uploaded ? "" : " (queued)"}\n`,
      );
    } else if (printed) {
      options.print(printed.json, printed.human);
    }
    cli.afterPrint?.(host);
    return printed?.exitCode ?? 0;
  } finally {
    await host.close();
  }
}

/** After a local edit from a one-shot command: try to upload it before exiting (bounded). */
async function uploadAfterEdit(host: CliHost): Promise<boolean> {
  const { engine } = host;
  if (engine.mode() !== "hybrid" || !engine.account()?.signedIn) return false;
  await engine.start();
  await waitUntil(
    () => {
      const s = engine.diagnostics();
      return (
        s.pendingCount === 0 || s.connection === "update_required" || engine.revokedAt() !== null
      );
    },
    host.timeoutMs,
    host.signal,
  );
  return engine.diagnostics().pendingCount === 0 && engine.revokedAt() === null;
}

/** Server-connected mode keeps nothing on disk: reading means loading from the server. */
async function loadServerState(host: CliHost): Promise<void> {
  const { engine } = host;
  refuseIfRevoked(host);
  await engine.start();
  const loaded = await waitUntil(
    () =>
      ["connected", "polling", "update_required", "revoked"].includes(
        engine.diagnostics().connection,
      ),
    host.timeoutMs,
    host.signal,
  );
  refuseIfRevoked(host);
  if (engine.diagnostics().connection === "update_required") {
    throw new EngineError("update_required", UPDATE_REQUIRED, {});
  }
  if (!loaded) {
    throw new EngineError(
      "offline",
      "server-connected mode: the library could not be loaded from the server",
      {},
    );
  }
}
