import { mintAccessToken } from "@chorus/auth";
import type { DeviceEngine } from "@chorus/desktop-sync";
import { EngineFleet } from "@chorus/desktop-sync/testing";
import { waitUntil } from "@chorus/testing";
import { RefusingProxy } from "@chorus/testing/refusing-proxy";
import { describe, expect, it } from "vitest";
import { engineSuite } from "../support/engine-suite.js";

const suite = engineSuite({ fleet: "test" });

const drained = (...engines: DeviceEngine[]) =>
  engines.every((engine) => engine.diagnostics().pendingCount === 0);

/** The connection states an engine reported, in order (consecutive repeats once). */
function recordStates(engine: DeviceEngine): string[] {
  const states: string[] = [];
  engine.on(() => {
    const state = engine.diagnostics().connection;
    if (states.at(-1) !== state) states.push(state);
  });
  return states;
}

async function serverCursor(deviceId: string): Promise<number> {
  const { rows } = await suite.backend.pool.query<{ last_seen_id: string }>(
    "SELECT last_seen_id FROM device_sync_cursor WHERE device_id = $1",
    [deviceId],
  );
  return rows[0] ? Number(rows[0].last_seen_id) : 0;
}

/** What /account's "Revoke" does: devices.revoke with the user's web token. */
async function revoke(userId: string, deviceId: string): Promise<void> {
  const { token } = await mintAccessToken(suite.backend.key, { userId, role: "user", kind: "web" });
  const response = await fetch(`${suite.backend.syncUrl}/trpc/devices.revoke`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ deviceId }),
  });
  expect(response.status).toBe(200);
}

describe("a device behind a proxy that refuses WebSockets but passes HTTP", () => {
  it("syncs both ways by polling, says so, and goes live once the socket opens", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const proxy = await RefusingProxy.start(suite.backend.syncUrl, null, {
      refuseWebSockets: true,
    });
    try {
      const a = suite.fleet.open("a");
      const b = suite.fleet.open("b");
      await a.bind((await account.device("a")).session);
      await b.bind((await account.device("b", proxy.url)).session);
      const statesOfB = recordStates(b);
      await a.start();
      await b.start();
      await waitUntil("a is live", () => a.diagnostics().connection === "connected");
      await waitUntil("b polls", () => b.diagnostics().connection === "polling");
      expect(proxy.refusedUpgrades).toBeGreaterThan(0);

      // A's edits reach B, though B has no socket to receive them on.
      const fromA: Array<{ id: string }> = [];
      for (let i = 0; i < 3; i++) fromA.push(await a.createPlaylist(`From A ${i}`));
      await waitUntil("b has a's playlists", () =>
        fromA.every((playlist) => b.playlist(playlist.id) !== null),
      );
      // B's edits reach A (uploaded over HTTP).
      const fromB = await b.createPlaylist("From B");
      await waitUntil("a has b's playlist", () => a.playlist(fromB.id) !== null);
      await waitUntil("both drained", () => drained(a, b));
      await waitUntil(
        "same library",
        () => JSON.stringify(a.snapshot()) === JSON.stringify(b.snapshot()),
      );
      // B's cursor is the head of the log, and its ACK over HTTP reached the server.
      const head = Math.max(...(await suite.backend.ops(account.userId)).map((op) => op.id));
      await waitUntil("b is at the head", () => b.diagnostics().cursor === head);
      await waitUntil("b's ACK reached the server", async () => {
        return (await serverCursor(b.diagnostics().deviceId)) === head;
      });
      // While the socket stays refused, B says polling, not offline: from the first answered
      // poll on, it never said anything else.
      expect(b.diagnostics().connection).toBe("polling");
      expect(statesOfB.slice(statesOfB.indexOf("polling"))).toEqual(["polling"]);
      expect(statesOfB).not.toContain("connected");

      // The proxy lets WebSockets through: B goes live and stops polling.
      proxy.refuseWebSockets = false;
      await waitUntil("b is live", () => b.diagnostics().connection === "connected");
      const pulls = () => proxy.forwarded.get("/trpc/sync.pull") ?? 0;
      expect(pulls()).toBeGreaterThan(0);
      const pullsWhenLive = pulls();
      const live = await a.createPlaylist("Live to B");
      await waitUntil("b has it live", () => b.playlist(live.id) !== null);
      // Several poll intervals (FAST_TIMING: 500 ms) later, no pull was made.
      const quiet = Date.now() + 2_000;
      await waitUntil("a quiet while", () => Date.now() >= quiet);
      expect(pulls()).toBe(pullsWhenLive);
      expect(b.diagnostics().connection).toBe("connected");
    } finally {
      await proxy.close();
    }
  });

  it("revoked while polling: the device says revoked and pulls no more", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const proxy = await RefusingProxy.start(suite.backend.syncUrl, null, {
      refuseWebSockets: true,
    });
    try {
      const b = suite.fleet.open("b");
      await b.bind((await account.device("b", proxy.url)).session);
      await b.start();
      await waitUntil("b polls", () => b.diagnostics().connection === "polling");
      await revoke(account.userId, b.diagnostics().deviceId);
      await waitUntil("b learns it", () => b.diagnostics().connection === "revoked");
      expect(b.revokedAt()).not.toBeNull();
      const pulls = () => proxy.forwarded.get("/trpc/sync.pull") ?? 0;
      const after = pulls();
      // Several poll intervals (FAST_TIMING: 500 ms) later, no pull was made.
      const quiet = Date.now() + 2_000;
      await waitUntil("a quiet while", () => Date.now() >= quiet);
      expect(pulls()).toBe(after);
      expect(b.diagnostics().connection).toBe("revoked");
    } finally {
      await proxy.close();
    }
  });

  it("a server that is down is offline, not polling", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const proxy = await RefusingProxy.start(suite.backend.syncUrl, null, {
      refuseWebSockets: true,
    });
    try {
      const b = suite.fleet.open("b");
      await b.bind((await account.device("b", proxy.url)).session);
      await b.start();
      await waitUntil("b polls", () => b.diagnostics().connection === "polling");
      await suite.backend.server.kill();
      await waitUntil("b notices", () => b.diagnostics().connection === "offline");
      await suite.backend.server.start();
      await waitUntil("b polls again", () => b.diagnostics().connection === "polling");
    } finally {
      await proxy.close();
    }
  });
});
