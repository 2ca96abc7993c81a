import { EngineError } from "@chorus/desktop-sync";
import { describe, expect, it, vi } from "vitest";
import { IPC } from "../shared/ipc-channels.js";
import { type DispatchDeps, dispatchIpc, type IpcHandlers } from "./ipc-dispatch.js";
import type { Logger } from "./log.js";
import type { SenderFacts } from "./sender-guard.js";

const ENTRY = "file:///app/out/renderer/index.html";
const ours: SenderFacts = { webContentsId: 1, isMainFrame: true, frameUrl: ENTRY };
const status = {
  profile: "default",
  deviceId: "3b241101-e2bb-4255-8caf-4136c566a962",
  lamport: 3,
  pendingCount: 1,
  cursor: 0,
  serverUrl: null,
};

function setup(overrides: Partial<IpcHandlers> = {}) {
  // Every channel has a handler; the ones these tests call are spies with real answers.
  const unused = Object.fromEntries(Object.values(IPC).map((channel) => [channel, vi.fn()]));
  const handlers = {
    ...unused,
    [IPC.getStatus]: vi.fn(() => status),
    [IPC.listProfiles]: vi.fn(() => []),
    [IPC.createProfile]: vi.fn(({ name }: { name: string }) => ({ name, path: `/p/${name}` })),
    ...overrides,
  } as IpcHandlers;
  const log: Logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const deps: DispatchDeps = {
    handlers,
    log,
    trustedRenderer: () => ({ webContentsIds: new Set([1]), entryUrl: ENTRY }),
  };
  return { handlers, log, deps };
}

describe("dispatchIpc", () => {
  it("runs the handler for a trusted sender with a valid payload", async () => {
    const { deps, handlers } = setup();
    await expect(dispatchIpc(IPC.getStatus, ours, [undefined], deps)).resolves.toEqual({
      ok: true,
      data: status,
    });
    await expect(dispatchIpc(IPC.createProfile, ours, [{ name: "work" }], deps)).resolves.toEqual({
      ok: true,
      data: { name: "work", path: "/p/work" },
    });
    expect(handlers[IPC.createProfile]).toHaveBeenCalledWith({ name: "work" });
  });

  it("refuses an untrusted sender before looking at the payload, and logs why", async () => {
    const { deps, handlers, log } = setup();
    const stranger: SenderFacts = { ...ours, webContentsId: 2 };
    const result = await dispatchIpc(IPC.createProfile, stranger, [{ name: "work" }], deps);
    expect(result).toMatchObject({ ok: false, error: { code: "untrusted_sender" } });
    expect(handlers[IPC.createProfile]).not.toHaveBeenCalled();
    expect(log.warn).toHaveBeenCalledOnce();
  });

  it("rejects payloads that do not match the channel's schema", async () => {
    const { deps, handlers } = setup();
    const bad: unknown[][] = [
      [{ name: "../escape" }],
      [{ name: "work", extra: true }],
      [{}],
      ["work"],
      [{ name: "work" }, "second argument"],
    ];
    for (const args of bad) {
      const result = await dispatchIpc(IPC.createProfile, ours, args, deps);
      expect(result).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
    }
    const withArg = await dispatchIpc(IPC.getStatus, ours, [{ sneaky: 1 }], deps);
    expect(withArg).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
    expect(handlers[IPC.createProfile]).not.toHaveBeenCalled();
    expect(handlers[IPC.getStatus]).not.toHaveBeenCalled();
  });

  it("passes an engine error's code through so the UI can act on it", async () => {
    const { deps } = setup({
      [IPC.createProfile]: () => {
        throw new EngineError("profile_exists", 'profile "work" already exists');
      },
    });
    await expect(dispatchIpc(IPC.createProfile, ours, [{ name: "work" }], deps)).resolves.toEqual({
      ok: false,
      error: { code: "profile_exists", message: 'profile "work" already exists' },
    });
  });

  it("hides unexpected errors behind 'internal' and logs them", async () => {
    const { deps, log } = setup({
      [IPC.getStatus]: () => {
        throw new Error("SQLITE_CORRUPT: secret/path/profile.db");
      },
    });
    const result = await dispatchIpc(IPC.getStatus, ours, [undefined], deps);
    expect(result).toMatchObject({ ok: false, error: { code: "internal" } });
    expect(JSON.stringify(result)).not.toContain("secret/path");
    expect(log.error).toHaveBeenCalledOnce();
  });
});
