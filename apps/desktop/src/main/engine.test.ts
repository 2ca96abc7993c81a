import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createProfile, memoryTokenStore } from "@chorus/desktop-sync";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IPC } from "../shared/ipc-channels.js";
import { EngineHost } from "./engine.js";
import { createHandlers } from "./handlers.js";
import { invokeHandler } from "./ipc-dispatch.js";

let dataDir: string;
const hosts: EngineHost[] = [];
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "chorus-desktop-"));
});
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.close()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function open(profile?: string, hostName?: string) {
  const host = await EngineHost.open({
    dataDir,
    profile,
    hostName,
    tokenStore: () => memoryTokenStore(),
    openUrl: () => {},
    platform: "linux",
    appVersion: "0.1.0",
  });
  hosts.push(host);
  return host;
}

const log = { info() {}, warn() {}, error() {} };

describe("EngineHost", () => {
  it("creates and opens a 'default' profile on first launch", async () => {
    const host = await open();
    expect(host.engine.profileName).toBe("default");
    expect(host.status()).toMatchObject({ profile: "default", lamport: 0, pendingCount: 0 });
    expect(host.listProfiles().map((p) => p.name)).toEqual(["default"]);
  });

  it("opens an existing profile the CLI created, keeping its device id", async () => {
    const { deviceId } = createProfile(dataDir, "work");
    const host = await open();
    expect(host.status()).toMatchObject({ profile: "work", deviceId });
  });

  it("switching profile swaps the library with the identity", async () => {
    const host = await open("home");
    const handlers = createHandlers(host);
    await host.engine.createPlaylist("Home mix");
    host.createProfile("work");
    const switched = await invokeHandler(IPC.switchProfile, [{ name: "work" }], { handlers, log });
    expect(switched).toMatchObject({ ok: true, data: { profile: "work" } });
    expect(host.engine.playlists()).toEqual([]);
    await host.switchProfile("home");
    expect(host.engine.playlists().map((p) => p.name)).toEqual(["Home mix"]);
  });

  it("answers library calls through the same handlers as IPC, with engine error codes", async () => {
    const host = await open();
    const handlers = createHandlers(host);
    const call = (channel: Parameters<typeof invokeHandler>[0], payload?: unknown) =>
      invokeHandler(channel, payload === undefined ? [] : [payload], { handlers, log });
    const created = await call(IPC.createPlaylist, { name: "Road trip" });
    expect(created).toMatchObject({ ok: true, data: { name: "Road trip" } });
    const track = await call(IPC.addTrack, { title: "Intro", artist: "Band" });
    const id = (created as { data: { id: string } }).data.id;
    await call(IPC.addEntry, {
      playlistId: id,
      trackId: (track as { data: { id: string } }).data.id,
    });
    expect(await call(IPC.getPlaylist, { id })).toMatchObject({
      ok: true,
      data: { name: "Road trip", entries: [{ track: { title: "Intro" } }] },
    });
    expect(await call(IPC.renamePlaylist, { id: "missing", name: "x" })).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(await call(IPC.setMode, { mode: "server" })).toMatchObject({
      ok: false,
      error: { code: "not_signed_in" },
    });
    expect(await call(IPC.getDiagnostics)).toMatchObject({
      ok: true,
      data: { pendingCount: 3, mode: "hybrid" },
    });
  });

  it("settings name the open profile, so a profile switch shows the new profile's account", async () => {
    const host = await open("home", "studio-pc");
    host.createProfile("work");
    expect(host.settings()).toMatchObject({ profile: "home", defaultDeviceName: "studio-pc" });
    await host.switchProfile("work");
    expect(host.settings()).toMatchObject({ profile: "work", account: null });
  });

  it("suggests a device name even when the host has none", async () => {
    const host = await open("home", "  ");
    expect(host.settings().defaultDeviceName).toBe("Chorus desktop");
  });

  it("counts the playlists a track leaves when it is deleted", async () => {
    const host = await open();
    const handlers = createHandlers(host);
    const a = await host.engine.createPlaylist("A");
    const b = await host.engine.createPlaylist("B");
    await host.engine.createPlaylist("C");
    const track = await host.engine.addTrack({ title: "Intro" });
    await host.engine.addEntry(a.id, track.id);
    await host.engine.addEntry(b.id, track.id);
    await host.engine.addEntry(b.id, track.id);
    expect(await invokeHandler(IPC.trackUsage, [{ id: track.id }], { handlers, log })).toEqual({
      ok: true,
      data: { playlists: 2 },
    });
  });

  it("says what Sync now did: nothing, when the profile does not sync", async () => {
    const host = await open();
    const handlers = createHandlers(host);
    await host.engine.createPlaylist("Waiting");
    expect(await invokeHandler(IPC.pushNow, [], { handlers, log })).toMatchObject({
      ok: true,
      data: { outcome: "not_syncing", pushed: 0, diagnostics: { pendingCount: 1 } },
    });
  });
});
