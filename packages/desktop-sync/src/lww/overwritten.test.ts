import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LibraryState } from "../library-state.js";
import { defineSyncApp } from "../sdk/schema.js";
import { EngineFleet } from "../testing/engines.js";
import { deliver, nextServerId, receive } from "../testing/relay.js";
import { OVERWRITTEN_KEEP, rememberDevices } from "./overwritten.js";

/*
 * Overwritten values, engine side: two real engines on real SQLite files exchange their queued
 * ops as the server would deliver them (increasing server ids, through applyRemote in one
 * transaction, as the subscriber does). The system test (system-tests, overwritten) does the
 * same through a real sync server.
 */

let fleet: EngineFleet;

beforeEach(() => {
  fleet = new EngineFleet();
});
afterEach(async () => {
  await fleet.close();
});

describe("overwritten values", () => {
  it("the device whose edit lost records the other device's value and id; the winner records that it won", async () => {
    const a = fleet.open("laptop");
    const b = fleet.open("studio");
    const sentA = new Set<string>();
    const sentB = new Set<string>();
    const { id } = await a.createPlaylist("Morning");
    deliver(a, b, sentA);
    // A renames (stamp 2); B first makes another playlist so its rename gets stamp 3: B's wins.
    await a.renamePlaylist(id, "Laptop name");
    await b.createPlaylist("Other");
    await b.renamePlaylist(id, "Studio name");

    deliver(b, a, sentB);
    expect(a.playlist(id)?.name).toBe("Studio name");
    const [lost, ...restA] = a.overwritten();
    expect(restA).toEqual([]);
    expect(lost).toMatchObject({
      entity: "playlist",
      entityId: id,
      field: "name",
      outcome: "lost",
      lost: { value: "Laptop name", deviceId: a.deviceId(), here: true },
      won: { value: "Studio name", deviceId: b.deviceId(), here: false, deviceName: null },
      dismissed: false,
    });
    expect(Date.parse(lost?.at ?? "")).not.toBeNaN();

    const echo = deliver(a, b, sentA);
    expect(b.playlist(id)?.name).toBe("Studio name");
    // A's losing rename comes back from the server too: already recorded, not recorded twice.
    receive(
      a,
      echo.map((op) => ({ ...op, id: nextServerId() })),
    );
    expect(a.overwritten()).toHaveLength(1);
    expect(b.overwritten()).toMatchObject([
      {
        entityId: id,
        field: "name",
        outcome: "won",
        lost: { value: "Laptop name", deviceId: a.deviceId(), here: false },
        won: { value: "Studio name", deviceId: b.deviceId(), here: true },
      },
    ]);
    expect(a.diagnostics().overwrittenCount).toBe(1);
    expect(b.diagnostics().overwrittenCount).toBe(1);
  });

  it("records nothing for own ops coming back, equal values, contests between two other devices, or a rebuild", async () => {
    const a = fleet.open("a");
    const b = fleet.open("b");
    const c = fleet.open("c");
    const sentA = new Set<string>();
    const sentB = new Set<string>();
    const sentC = new Set<string>();
    const { id } = await a.createPlaylist("Start");
    const fromA = deliver(a, b, sentA);
    receive(c, fromA);
    // Own ops coming back (the server echoes every op to every device of the account).
    receive(
      a,
      fromA.map((op) => ({ ...op, id: nextServerId() })),
    );
    // B and C both rename; A wrote nothing since: their contest is none of A's business.
    await b.renamePlaylist(id, "From B");
    await c.renamePlaylist(id, "From C");
    const fromB = deliver(b, a, sentB);
    receive(
      a,
      deliver(c, b, sentC).map((op) => ({ ...op, id: nextServerId() })),
    );
    expect(a.overwritten()).toHaveLength(1); // B replaced A's "Start": A wrote it
    expect(a.overwritten()[0]).toMatchObject({ outcome: "lost", lost: { value: "Start" } });
    // Equal values disagree on nothing.
    await a.renamePlaylist(id, "Same");
    await b.renamePlaylist(id, "Same");
    deliver(b, a, sentB);
    expect(a.overwritten()).toHaveLength(1);
    // A rebuild (resync) folds history that was settled before: nothing new.
    const rebuild = new LibraryState(a.profile.db, a.profile.clock, () => a.deviceId());
    a.profile.db.transaction(() => {
      rebuild.clearLibrary();
      rebuild.batch(() => {
        for (const op of [...fromA, ...fromB]) rebuild.fold(op);
        rebuild.refoldPending();
      });
    })();
    expect(a.overwritten({ includeDismissed: true })).toHaveLength(1);
  });

  it("keeps the newest OVERWRITTEN_KEEP records per profile", async () => {
    const a = fleet.open("a");
    const b = fleet.open("b");
    const sentA = new Set<string>();
    const sentB = new Set<string>();
    const { id } = await a.createPlaylist("0");
    deliver(a, b, sentA);
    const rounds = OVERWRITTEN_KEEP + 5;
    for (let i = 1; i <= rounds; i++) {
      await a.renamePlaylist(id, `a${i}`);
      await b.createPlaylist("bump"); // B's rename gets the higher stamp
      await b.renamePlaylist(id, `b${i}`);
      deliver(b, a, sentB);
      deliver(a, b, sentA);
    }
    const rows = a.profile.db.prepare("SELECT COUNT(*) FROM sync_overwritten").pluck().get();
    expect(rows).toBe(OVERWRITTEN_KEEP);
    const newest = a.overwritten({ limit: 1 })[0];
    expect(newest?.lost.value).toBe(`a${rounds}`);
    const all = a.overwritten({ limit: OVERWRITTEN_KEEP });
    expect(all.at(-1)?.lost.value).toBe(`a${rounds - OVERWRITTEN_KEEP + 1}`);
  }, 60_000);

  it("dismissing one or all hides them from the notice and the count, not from --all", async () => {
    const a = fleet.open("a");
    const b = fleet.open("b");
    const sentA = new Set<string>();
    const sentB = new Set<string>();
    const one = await a.createPlaylist("One");
    const two = await a.createPlaylist("Two");
    deliver(a, b, sentA);
    await a.renamePlaylist(one.id, "A1");
    await a.renamePlaylist(two.id, "A2");
    await b.createPlaylist("x");
    await b.createPlaylist("y");
    await b.renamePlaylist(one.id, "B1");
    await b.renamePlaylist(two.id, "B2");
    deliver(b, a, sentB);
    const [first, second] = a.overwritten();
    expect(a.dismissOverwritten([first?.id ?? 0])).toBe(1);
    expect(a.overwritten().map((r) => r.id)).toEqual([second?.id]);
    expect(a.overwritten({ entityId: first?.entityId })).toEqual([]);
    expect(a.overwritten({ entityId: second?.entityId })).toHaveLength(1);
    expect(a.diagnostics().overwrittenCount).toBe(1);
    expect(a.dismissOverwritten("all")).toBe(1);
    expect(a.overwritten()).toEqual([]);
    expect(a.overwritten({ includeDismissed: true }).every((r) => r.dismissed)).toBe(true);
  });

  it("names the winning device once the account listed it", async () => {
    const a = fleet.open("a");
    const b = fleet.open("b");
    const sentB = new Set<string>();
    const { id } = await a.createPlaylist("Mine");
    deliver(a, b);
    await b.createPlaylist("bump");
    await b.renamePlaylist(id, "Theirs");
    deliver(b, a, sentB);
    rememberDevices(a.profile.db, [{ id: b.deviceId(), name: "Studio iMac" }], Date.now());
    expect(a.overwritten()[0]?.won).toMatchObject({ deviceName: "Studio iMac", here: false });
  });

  it("works for any app on the SDK: a declared table's field", async () => {
    const notes = defineSyncApp({
      name: "notes_overwritten",
      migrations: ["CREATE TABLE notes (id TEXT PRIMARY KEY NOT NULL, body TEXT NOT NULL) STRICT;"],
      tables: [
        {
          table: "notes",
          primaryKey: { column: "id", kind: "uuid" },
          columns: ["body"],
          fallbacks: { body: "" },
        },
      ],
    });
    const a = fleet.open("a", { app: notes });
    const b = fleet.open("b", { app: notes });
    const sentB = new Set<string>();
    const id = randomUUID();
    await a.write((db) => db.prepare("INSERT INTO notes (id, body) VALUES (?, ?)").run(id, "hi"));
    deliver(a, b);
    await a.write((db) => db.prepare("UPDATE notes SET body = ? WHERE id = ?").run("from a", id));
    // B's write to another note first, so its edit of `id` carries the higher stamp.
    await b.write((db) =>
      db.prepare("INSERT INTO notes (id, body) VALUES (?, ?)").run(randomUUID(), "other"),
    );
    await b.write((db) => db.prepare("UPDATE notes SET body = ? WHERE id = ?").run("from b", id));
    deliver(b, a, sentB);
    expect(a.read((db) => db.prepare("SELECT body FROM notes").pluck().get())).toBe("from b");
    expect(a.overwritten()).toMatchObject([
      {
        entity: "notes",
        entityId: id,
        field: "body",
        outcome: "lost",
        lost: { value: "from a", here: true },
        won: { value: "from b", deviceId: b.deviceId() },
      },
    ]);
  });
});
