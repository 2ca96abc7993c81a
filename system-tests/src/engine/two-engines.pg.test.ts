import { waitUntil } from "@chorus/testing";
import { describe, expect, it } from "vitest";
import { engineSuite } from "../support/engine-suite.js";

const suite = engineSuite({ fleet: "file" });

describe("two engines of one user", () => {
  it("an edit on one shows on the other", async () => {
    const account = await suite.backend.createAccount();
    const a = suite.fleet.open("laptop");
    const b = suite.fleet.open("studio");
    await a.bind((await account.device("laptop")).session);
    await b.bind((await account.device("studio")).session);
    await a.start();
    await b.start();
    await waitUntil("both connected", () =>
      [a, b].every((engine) => engine.diagnostics().connection === "connected"),
    );

    const started = Date.now();
    const { id } = await a.createPlaylist("Morning run");
    const ms = await waitUntil("the playlist on the second engine", () =>
      b.playlists().some((p) => p.id === id),
    );
    console.log(
      `[latency] create on A visible on B after ${Date.now() - started} ms (poll ${ms} ms)`,
    );
    expect(b.playlist(id)?.name).toBe("Morning run");

    const track = await b.addTrack({ title: "Intro", artist: "Band" });
    await b.addEntry(id, track.id);
    await b.renamePlaylist(id, "Evening run");
    await waitUntil(
      "B's edits on A",
      () => a.playlist(id)?.entries.length === 1 && a.playlist(id)?.name === "Evening run",
    );
    await waitUntil(
      "both queues empty",
      () => a.diagnostics().pendingCount === 0 && b.diagnostics().pendingCount === 0,
    );
    expect(a.snapshot()).toEqual(b.snapshot());
    // Each op once on the server; own ops coming back did not re-queue or duplicate anything.
    const ops = await suite.backend.ops(account.userId);
    expect(new Set(ops.map((op) => op.operationId)).size).toBe(ops.length);
    expect(ops).toHaveLength(4);
  });
});
