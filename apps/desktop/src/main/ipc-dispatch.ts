import { isEngineError } from "@chorus/desktop-sync";
import { z } from "zod";
import type { IpcChannel, IpcError, IpcResult } from "../shared/ipc-channels.js";
import { type IpcPayload, type IpcResults, ipcPayloadSchemas } from "../shared/ipc-schemas.js";
import type { Logger } from "./log.js";
import { judgeSender, type SenderFacts, type TrustedRenderer } from "./sender-guard.js";

export type IpcHandlers = {
  [C in IpcChannel]: (payload: IpcPayload<C>) => IpcResults[C] | Promise<IpcResults[C]>;
};

/** The schema map seen per channel, so a generic channel indexes to its own payload type. */
const payloadSchemas: { [C in IpcChannel]: z.ZodType<IpcPayload<C>> } = ipcPayloadSchemas;

export interface DispatchDeps {
  handlers: IpcHandlers;
  trustedRenderer: () => TrustedRenderer;
  log: Logger;
}

/**
 * One IPC call, independent of Electron: check the sender, parse the payload, run the
 * handler, and turn every outcome into an IpcResult the renderer can branch on.
 */
export async function dispatchIpc<C extends IpcChannel>(
  channel: C,
  sender: SenderFacts,
  args: readonly unknown[],
  deps: DispatchDeps,
): Promise<IpcResult<IpcResults[C]>> {
  const verdict = judgeSender(sender, deps.trustedRenderer());
  if (!verdict.trusted) {
    deps.log.warn("refused IPC from an untrusted sender", { channel, reason: verdict.reason });
    return fail({ code: "untrusted_sender", message: "this window may not call Chorus" });
  }
  return invokeHandler(channel, args, deps);
}

/**
 * Validates the payload of one call and runs its handler, turning every outcome into an
 * IpcResult. Shared by IPC (after the sender check) and the dev harness's HTTP server.
 */
export async function invokeHandler<C extends IpcChannel>(
  channel: C,
  args: readonly unknown[],
  deps: Pick<DispatchDeps, "handlers" | "log">,
): Promise<IpcResult<IpcResults[C]>> {
  if (args.length > 1) {
    return fail({ code: "invalid_payload", message: `expected one argument, got ${args.length}` });
  }

  const parsed = payloadSchemas[channel].safeParse(args[0]);
  if (!parsed.success) {
    return fail({ code: "invalid_payload", message: z.prettifyError(parsed.error) });
  }

  const handler: IpcHandlers[C] = deps.handlers[channel];
  try {
    return { ok: true, data: await handler(parsed.data as IpcPayload<C>) };
  } catch (error) {
    if (isEngineError(error)) return fail({ code: error.code, message: error.message });
    deps.log.error("IPC handler failed", { channel, error: String(error) });
    return fail({ code: "internal", message: "Chorus hit an unexpected error; see its log" });
  }
}

function fail(error: IpcError): { ok: false; error: IpcError } {
  return { ok: false, error };
}
