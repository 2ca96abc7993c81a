import { EngineFleet } from "@chorus/desktop-sync/testing";
import { waitUntil } from "@chorus/testing";
import { RefusingProxy } from "@chorus/testing/refusing-proxy";
import { describe, expect, it } from "vitest";
import { engineSuite } from "../support/engine-suite.js";

/*
 * The outbox against a real sync server: a change refused for good (a filtering proxy in front
 * of the server answers 400 to an upload that looks like script, as a firewall rule does) is
 * retried and lands once the cause is fixed (the rule is lifted); a discarded change leaves the device showing the server's state (the convergence audit
 * says so); an older value restored is a new edit that wins on the other device too.
 */

const suite = engineSuite({ fleet: "test" });

/** A name the proxy's rule refuses (as a firewall refuses what looks like script). */
const BLOCKED_NAME = "<script> mix";
const blocksScript = (body: string) => body.includes("<script>");

/** Two engines of a new account, "a" through the filtering proxy, both started. */
async function pairBehindProxy() {
  suite.fleet = new EngineFleet();
  const account = await suite.backend.createAccount();
  const proxy = await RefusingProxy.start(suite.backend.syncUrl, blocksScript, {
    refuseWebSockets: true,
  });
  const a = suite.fleet.open("a");
  const b = suite.fleet.open("b");
  await a.bind((await account.device("a", proxy.url)).session);
  await b.bind((await account.device("b")).session);
  await a.start();
  await b.start();
  return { account, proxy, a, b };
}

describe("retry", () => {
  it("a change refused for good is pushed again after the cause is fixed, and lands on the other device", async () => {
    const { account, proxy, a, b } = await pairBehindProxy();
    try {
      const small = await a.createPlaylist("Small");
      const blocked = await a.createPlaylist(BLOCKED_NAME);
      const after = await a.createPlaylist("After");
      await waitUntil("a set the refused one aside and the rest flowed", () => {
        const d = a.diagnostics();
        return d.quarantinedCount === 1 && d.pendingCount === 0;
      });
      await waitUntil(
        "b has the two others",
        () => b.playlist(small.id) !== null && b.playlist(after.id) !== null,
      );
      const refused = a.diagnostics().quarantined[0];
      expect(refused).toMatchObject({ entity: "playlist", entityId: blocked.id, op: "insert" });
      if (!refused) throw new Error("nothing quarantined");

      // Retried while the cause is still there: refused again, set aside again.
      const refusalsBefore = proxy.refused;
      expect(a.retryOp(refused.operationId)).toEqual({
        operationId: refused.operationId,
        outcome: "requeued",
      });
      await waitUntil(
        "refused again",
        () => proxy.refused > refusalsBefore && a.diagnostics().quarantinedCount === 1,
      );
      expect(b.playlist(blocked.id)).toBeNull();

      // The rule is lifted: the same op, retried, lands.
      proxy.rule = null;
      expect(a.retryOp(refused.operationId).outcome).toBe("requeued");
      await waitUntil("b has the refused one", () => b.playlist(blocked.id)?.name === BLOCKED_NAME);
      await waitUntil("a's queue and quarantine are empty", () => {
        const d = a.diagnostics();
        return d.quarantinedCount === 0 && d.pendingCount === 0;
      });
      // Stored once (its stamp was older than the server's newest of this device, so the queue
      // was re-stamped on the way, under a new operation id: the drain's rule).
      const stored = await suite.backend.ops(account.userId);
      expect(stored.filter((op) => op.entityId === blocked.id)).toHaveLength(1);
      expect(stored).toHaveLength(3);
    } finally {
      await proxy.close();
    }
  });
});

describe("discard", () => {
  it("of a refused change and of a waiting one: the device shows the server's values again, other changes stay, the audit matches", async () => {
    const { account, proxy, a, b } = await pairBehindProxy();
    try {
      const mix = await a.createPlaylist("Mix");
      await waitUntil("b has Mix", () => b.playlist(mix.id)?.name === "Mix");

      // A refused change (the loop is running: the discard rebuilds through it).
      await a.renamePlaylist(mix.id, BLOCKED_NAME);
      await waitUntil("the rename is set aside", () => a.diagnostics().quarantinedCount === 1);
      const refused = a.diagnostics().quarantined[0]?.operationId ?? "";
      expect(a.playlist(mix.id)?.name).toBe(BLOCKED_NAME);
      expect(await a.discardOp(refused)).toEqual({
        operationId: refused,
        discarded: true,
        reverted: true,
      });
      expect(a.playlist(mix.id)?.name).toBe("Mix");
      expect(a.diagnostics().quarantinedCount).toBe(0);

      // A waiting change while a is not syncing (a one-off pull rebuilds), beside another
      // waiting change that must stay queued and sync later.
      await a.stop();
      await a.renamePlaylist(mix.id, "Never synced");
      const other = await a.createPlaylist("Made offline");
      const pending = a.diagnostics().pending;
      const rename = pending.find((op) => op.field === "name")?.operationId ?? "";
      expect(await a.discardOp(rename)).toMatchObject({ discarded: true, reverted: true });
      expect(a.playlist(mix.id)?.name).toBe("Mix");
      expect(a.playlist(other.id)?.name).toBe("Made offline");
      expect(a.diagnostics().pending.map((op) => op.op)).toEqual(["insert"]);

      await a.start();
      await waitUntil("b has the other change", () => b.playlist(other.id) !== null);
      await waitUntil("a's queue drained", () => a.diagnostics().pendingCount === 0);
      expect(b.playlist(mix.id)?.name).toBe("Mix");
      const audit = await a.auditConvergence();
      expect(audit.outcome).toBe("match");
      const values = (await suite.backend.ops(account.userId)).map((op) =>
        JSON.stringify(op.value),
      );
      expect(values.some((value) => value.includes("Mix"))).toBe(true);
      expect(values.some((value) => value.includes("Never synced"))).toBe(false);
      expect(values.some((value) => value.includes("<script>"))).toBe(false);
    } finally {
      await proxy.close();
    }
  });
});

describe("restore", () => {
  it("an overwritten value written again is a new op that converges on the other device", async () => {
    const { a, b } = await suite.boundPair();
    await a.start();
    await b.start();
    const mix = await a.createPlaylist("Mix");
    await waitUntil("b has Mix", () => b.playlist(mix.id) !== null);
    await a.stop();
    await a.renamePlaylist(mix.id, "Laptop name");
    await b.createPlaylist("Lift b's clock");
    await b.renamePlaylist(mix.id, "Studio name");
    await waitUntil("b uploaded", () => b.diagnostics().pendingCount === 0);
    await a.start();
    await waitUntil("a learnt its rename lost", () => a.overwritten().length === 1);
    expect(a.playlist(mix.id)?.name).toBe("Studio name");

    const history = a.fieldHistory({ entity: "playlist", entityId: mix.id, field: "name" });
    const older = history.versions.find((v) => v.value === "Laptop name");
    expect(older).toMatchObject({ here: true, current: false, replacedBy: { here: false } });
    if (!older?.restore) throw new Error("no restore offered");
    const restored = await a.restoreValue(older.restore.recordId, older.restore.side);
    expect(restored.changed).toBe(true);

    await waitUntil("b shows the restored value", () => b.playlist(mix.id)?.name === "Laptop name");
    await waitUntil("a uploaded it", () => a.diagnostics().pendingCount === 0);
    expect(a.playlist(mix.id)?.name).toBe("Laptop name");
    // On b, its own value was replaced by a's restore: recorded there as lost.
    await waitUntil("b recorded it", () => b.overwritten().some((r) => r.outcome === "lost"));
    expect(b.overwritten().find((r) => r.outcome === "lost")).toMatchObject({
      outcome: "lost",
      lost: { value: "Studio name", here: true },
      won: { value: "Laptop name", here: false },
    });
  });
});
