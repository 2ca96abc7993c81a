import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeviceEngine } from "../engine.js";
import { isEngineError } from "../errors.js";
import { allPending, quarantine } from "../queue.js";
import { writeMeta } from "../store/meta.js";
import { EngineFleet } from "../testing/engines.js";
import { deliver, receive } from "../testing/relay.js";

/*
 * The outbox and a field's history on real engines and SQLite files, without a server (the
 * system tests run the same against a real sync server): retry puts a refused change back in
 * the queue, discard takes a change back and leaves the device showing only what it will
 * sync, restore writes an older value again as a new edit.
 */

let fleet: EngineFleet;

beforeEach(() => {
  fleet = new EngineFleet();
});
afterEach(async () => {
  await fleet.close();
});

/** Sets the newest queued op aside as the server would after refusing it for good. */
function refuseNewest(engine: DeviceEngine, reason = "refused for the test"): string {
  const op = allPending(engine.profile.db).at(-1);
  if (!op) throw new Error("nothing queued");
  engine.profile.db.transaction(() => quarantine(engine.profile.db, [{ id: op.id, reason }], 1))();
  return op.operationId;
}

async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string | null> {
  try {
    await (typeof promise === "function" ? promise() : promise);
    return null;
  } catch (error) {
    return isEngineError(error) ? error.code : `not an engine error: ${String(error)}`;
  }
}

describe("retry", () => {
  it("puts a refused change back in the queue at its place, with its stamp and id and no failed attempts", async () => {
    const a = fleet.open("a");
    const { id } = await a.createPlaylist("Mix");
    await a.renamePlaylist(id, "Road trip");
    const before = allPending(a.profile.db).at(-1);
    const refused = refuseNewest(a);
    await a.createPlaylist("Later");
    expect(a.diagnostics()).toMatchObject({ pendingCount: 2, quarantinedCount: 1 });

    expect(a.retryOp(refused)).toEqual({ operationId: refused, outcome: "requeued" });
    const queue = allPending(a.profile.db);
    expect(queue.map((op) => op.operationId)).toHaveLength(3);
    // Back at its place in the FIFO (between the insert and the later playlist).
    expect(queue[1]).toMatchObject({
      operationId: refused,
      lamportTs: before?.lamportTs,
      value: "Road trip",
      attemptCount: 0,
      lastError: null,
    });
    expect(a.diagnostics().quarantinedCount).toBe(0);
    // A change still waiting stays where it is.
    expect(a.retryOp(refused)).toEqual({ operationId: refused, outcome: "queued" });
  });

  it("answers not_found for an id no queue holds, changing nothing", async () => {
    const a = fleet.open("a");
    await a.createPlaylist("Mix");
    expect(await codeOf(() => a.retryOp("no-such-op"))).toBe("not_found");
    expect(await codeOf(a.discardOp("no-such-op"))).toBe("not_found");
    expect(a.diagnostics().pendingCount).toBe(1);
  });
});

describe("discard", () => {
  it("on a profile never bound: the rename goes and the playlist shows its name before it", async () => {
    const a = fleet.open("a");
    const { id } = await a.createPlaylist("Mix");
    await a.renamePlaylist(id, "Road trip");
    const rename = allPending(a.profile.db).at(-1)?.operationId ?? "";

    expect(await a.discardOp(rename)).toEqual({
      operationId: rename,
      discarded: true,
      reverted: true,
    });
    expect(a.playlist(id)?.name).toBe("Mix");
    expect(allPending(a.profile.db).map((op) => op.op)).toEqual(["insert"]);
  });

  it("keeps a refused change's edit in view when another change is discarded (the rebuild folds quarantine too)", async () => {
    const a = fleet.open("a");
    const { id } = await a.createPlaylist("Mix");
    await a.renamePlaylist(id, "Kept on this computer");
    refuseNewest(a);
    const other = await a.createPlaylist("Other");
    const insert = allPending(a.profile.db).at(-1)?.operationId ?? "";

    await a.discardOp(insert);
    expect(a.playlist(other.id)).toBeNull();
    expect(a.playlist(id)?.name).toBe("Kept on this computer");
    expect(a.diagnostics().quarantinedCount).toBe(1);
  });

  it("of a refused change on a profile never bound reverts what it showed", async () => {
    const a = fleet.open("a");
    const { id } = await a.createPlaylist("Mix");
    await a.renamePlaylist(id, "Refused name");
    const refused = refuseNewest(a);
    expect(await a.discardOp(refused)).toMatchObject({ discarded: true, reverted: true });
    expect(a.playlist(id)?.name).toBe("Mix");
    expect(a.diagnostics().quarantinedCount).toBe(0);
  });

  it("of a change another device's newer write replaced goes without a rebuild (nothing showed it)", async () => {
    const a = fleet.open("a");
    const b = fleet.open("b");
    const { id } = await a.createPlaylist("Mix");
    const sentA = new Set<string>();
    deliver(a, b, sentA);
    await a.renamePlaylist(id, "Mine");
    await b.createPlaylist("Lift b's clock");
    await b.renamePlaylist(id, "Theirs");
    deliver(b, a);
    const mine = allPending(a.profile.db).at(-1)?.operationId ?? "";
    // A bound profile would need the server to rebuild; this one must not need it.
    writeMeta(a.profile.db, "bound_user_id", "someone");
    await a.setMode("local");

    expect(await a.discardOp(mine)).toEqual({
      operationId: mine,
      discarded: true,
      reverted: false,
    });
    expect(a.playlist(id)?.name).toBe("Theirs");
  });

  it("of a change still shown on a bound profile in Local mode is refused with offline, keeping it", async () => {
    const a = fleet.open("a");
    const { id } = await a.createPlaylist("Mix");
    await a.renamePlaylist(id, "Road trip");
    const rename = allPending(a.profile.db).at(-1)?.operationId ?? "";
    writeMeta(a.profile.db, "bound_user_id", "someone");
    await a.setMode("local");

    expect(await codeOf(a.discardOp(rename))).toBe("offline");
    expect(a.playlist(id)?.name).toBe("Road trip");
    expect(allPending(a.profile.db).map((op) => op.operationId)).toContain(rename);
  });
});

describe("field history and restore", () => {
  it("lists the current value and the one it replaced; restoring writes it again as a new edit that wins on the other device", async () => {
    const a = fleet.open("laptop");
    const b = fleet.open("studio");
    const sentA = new Set<string>();
    const sentB = new Set<string>();
    const { id } = await a.createPlaylist("Mix");
    deliver(a, b, sentA);
    await a.renamePlaylist(id, "Laptop name");
    await b.createPlaylist("Lift b's clock");
    await b.renamePlaylist(id, "Studio name");
    deliver(b, a, sentB);
    expect(a.playlist(id)?.name).toBe("Studio name");

    const history = a.fieldHistory({ entity: "playlist", entityId: id, field: "name" });
    expect(history.versions).toMatchObject([
      { value: "Studio name", here: false, deviceId: b.deviceId(), current: true, restore: null },
      {
        value: "Laptop name",
        here: true,
        current: false,
        replacedBy: { deviceId: b.deviceId(), here: false },
        restore: { side: "lost" },
      },
    ]);
    const restore = history.versions[1]?.restore;
    if (!restore) throw new Error("no restore");
    const theirs = history.versions[0]?.lamportTs ?? 0;

    const restored = await a.restoreValue(restore.recordId, restore.side);
    expect(restored).toMatchObject({ field: "name", value: "Laptop name", changed: true });
    expect(a.playlist(id)?.name).toBe("Laptop name");
    const op = allPending(a.profile.db).at(-1);
    // A new op through the normal write path: a set with a stamp newer than the value it replaces.
    expect(op).toMatchObject({
      entity: "playlist",
      field: "name",
      op: "set",
      value: "Laptop name",
    });
    expect(op?.lamportTs).toBeGreaterThan(theirs);
    expect(a.diagnostics().overwrittenCount).toBe(0);
    expect(
      a.fieldHistory({ entity: "playlist", entityId: id, field: "name" }).versions[0],
    ).toMatchObject({
      value: "Laptop name",
      here: true,
      current: true,
    });

    deliver(a, b, sentA);
    expect(b.playlist(id)?.name).toBe("Laptop name");
    // Restoring the value it holds makes no edit.
    const again = await a.restoreValue(restore.recordId, restore.side);
    expect(again.changed).toBe(false);
  });

  it("refuses a restore of an unknown record or of a deleted item with not_found", async () => {
    const a = fleet.open("laptop");
    const b = fleet.open("studio");
    const { id } = await a.createPlaylist("Mix");
    deliver(a, b);
    await a.renamePlaylist(id, "Mine");
    await b.createPlaylist("Lift b's clock");
    await b.renamePlaylist(id, "Theirs");
    deliver(b, a);
    const [record] = a.overwritten();
    await a.deletePlaylist(id);
    expect(await codeOf(a.restoreValue(record?.id ?? 0))).toBe("not_found");
    expect(await codeOf(a.restoreValue(9999))).toBe("not_found");
    receive(a, []);
  });
});
