import { inputSchema } from "@chorus/desktop-sync/command-schemas";
import {
  COMMANDS,
  type CommandHost,
  DESKTOP_COMMANDS,
  type DesktopCommandName,
} from "@chorus/desktop-sync/commands";
import { describe, expect, expectTypeOf, it, vi } from "vitest";
import { type ChorusApi, createChorusApi } from "../shared/api.js";
import { IPC, isIpcChannel } from "../shared/ipc-channels.js";
import { ipcPayloadSchemas } from "../shared/ipc-schemas.js";
import { createHandlers } from "./handlers.js";

/*
 * The window's surfaces are derived from the command table of @chorus/desktop-sync: every
 * entry with a channel is reachable through IPC (channel, payload schema, handler), the
 * preload API and the dev harness, and nothing else is. A command added to the table that a
 * surface misses, or a surface that offers something the table does not have, fails here.
 */

const desktopNames = DESKTOP_COMMANDS.map((command) => command.name).sort();

describe("the desktop surfaces derived from the command table", () => {
  it("the preload API's type has one call per desktop command, and no other", () => {
    expectTypeOf<keyof ChorusApi>().toEqualTypeOf<DesktopCommandName>();
  });

  it("every command with a channel is an IPC channel with the table's schema and a handler running the table's run", async () => {
    const host = { marker: "host" } as unknown as CommandHost;
    const handlers = createHandlers(host);
    expect(Object.keys(IPC).sort()).toEqual(desktopNames);
    expect(Object.keys(handlers).sort()).toEqual(Object.values(IPC).sort());
    expect(Object.keys(ipcPayloadSchemas).sort()).toEqual(Object.values(IPC).sort());
    for (const command of DESKTOP_COMMANDS) {
      expect(IPC[command.name as keyof typeof IPC]).toBe(command.channel);
      expect(ipcPayloadSchemas[command.channel]).toBe(inputSchema(command));
      expect(isIpcChannel(command.channel), `harness route for ${command.name}`).toBe(true);
      // Erased: a spy on the union of every entry's `run` is too complex a type for tsc.
      const erased = command as unknown as { run: (...args: unknown[]) => unknown };
      const run = vi.spyOn(erased, "run").mockReturnValue("ran");
      try {
        expect(await handlers[command.channel]({ probe: command.name } as never)).toBe("ran");
        expect(run).toHaveBeenCalledWith(host, { probe: command.name });
      } finally {
        run.mockRestore();
      }
    }
  });

  it("the preload API calls each command's channel, with the input as the payload", async () => {
    const invoke = vi.fn(async () => ({ ok: true as const, data: null }));
    const api = createChorusApi(invoke as never) as unknown as Record<
      string,
      (input?: unknown) => Promise<unknown>
    >;
    expect(Object.keys(api).sort()).toEqual(desktopNames);
    for (const command of DESKTOP_COMMANDS) {
      const call = api[command.name];
      expect(call, command.name).toBeTypeOf("function");
      await call?.({ probe: command.name });
      expect(invoke).toHaveBeenLastCalledWith(command.channel, { probe: command.name });
    }
  });

  it("a command without a channel says why, and no surface of the window offers it", () => {
    const absent = COMMANDS.filter((command) => command.channel === null);
    expect(absent.length).toBeGreaterThan(0);
    const api = createChorusApi(vi.fn() as never);
    for (const command of absent) {
      expect(command.desktopAbsent, command.name).toMatch(/\w+/);
      expect(Object.keys(api)).not.toContain(command.name);
      expect(Object.keys(IPC)).not.toContain(command.name);
    }
  });

  it("channels are unique: two commands never share one", () => {
    const channels = DESKTOP_COMMANDS.map((command) => command.channel);
    expect(new Set(channels).size).toBe(channels.length);
  });
});
