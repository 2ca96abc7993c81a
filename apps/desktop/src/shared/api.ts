import {
  DESKTOP_COMMANDS,
  type DesktopCommand,
  type InputSchemaOf,
} from "@chorus/desktop-sync/commands";
import type { z } from "zod";
import type { IpcChannel, IpcResult } from "./ipc-channels.js";
import type { IpcPayload, IpcResults } from "./ipc-schemas.js";

export type Invoke = <C extends IpcChannel>(
  channel: C,
  payload: IpcPayload<C>,
) => Promise<IpcResult<IpcResults[C]>>;

/** One call of the bridge: its input (none for commands that take none) and its result. */
type Call<C extends DesktopCommand> =
  z.input<InputSchemaOf<C>> extends undefined
    ? () => Promise<IpcResult<IpcResults[C["channel"]]>>
    : (input: z.input<InputSchemaOf<C>>) => Promise<IpcResult<IpcResults[C["channel"]]>>;

/** The renderer's whole view of the engine: one call per command of the table the window may use. */
export type ChorusApi = { readonly [C in DesktopCommand as C["name"]]: Call<C> };

/**
 * Builds the bridge from the command table. The preload builds it over ipcRenderer.invoke
 * (ipcRenderer itself is never exposed); the dev harness builds the same object over fetch, so
 * one renderer runs in Electron and in a plain browser.
 */
export function createChorusApi(invoke: Invoke): ChorusApi {
  return Object.fromEntries(
    DESKTOP_COMMANDS.map((command) => [
      command.name,
      (input?: unknown) => invoke(command.channel, input as never),
    ]),
  ) as unknown as ChorusApi;
}
