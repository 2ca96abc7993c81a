import type { LwwOp } from "@chorus/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DeviceEngine } from "./engine.js";
import { LibraryState } from "./library-state.js";
import { allPending } from "./queue.js";
import { EngineFleet } from "./testing/engines.js";

/*
 * The convergence invariant (docs/design.md#invariants): every device applying the same set of ops, in any order, ends
 * in the same state. Three real engines (real SQLite files) edit concurrently — creates,
 * renames, deletes, entry adds and moves — on views that diverge, exchange some ops in random
 * order with duplicates as they go, and finally receive everything, again reordered and
 * duplicated. Their libraries must be identical.
 */

type Placement = { kind: "end" } | { kind: "after" | "before"; pick: number };
type Step =
  | { kind: "createPlaylist"; on: number; name: string }
  | { kind: "renamePlaylist"; on: number; pick: number; name: string }
  | { kind: "deletePlaylist"; on: number; pick: number }
  | { kind: "addTrack"; on: number; title: string }
  | { kind: "deleteTrack"; on: number; pick: number }
  | { kind: "addEntry"; on: number; playlist: number; track: number; where: Placement }
  | { kind: "moveEntry"; on: number; playlist: number; entry: number; where: Placement }
  | { kind: "removeEntry"; on: number; playlist: number; entry: number }
  | { kind: "deliver"; from: number; to: number; order: number[]; duplicate: boolean };

const ENGINES = 3;
const on = fc.nat(ENGINES - 1);
const pick = fc.nat(50);
const name = fc.constantFrom("Run", "Focus", "Jazz", "Road trip", "Sleep");
const where: fc.Arbitrary<Placement> = fc.oneof(
  fc.constant({ kind: "end" as const }),
  fc.record({ kind: fc.constantFrom("after" as const, "before" as const), pick }),
);
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("createPlaylist" as const), on, name }), weight: 3 },
  {
    arbitrary: fc.record({ kind: fc.constant("renamePlaylist" as const), on, pick, name }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant("deletePlaylist" as const), on, pick }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("addTrack" as const), on, title: name }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("deleteTrack" as const), on, pick }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant("addEntry" as const),
      on,
      playlist: pick,
      track: pick,
      where,
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("moveEntry" as const),
      on,
      playlist: pick,
      entry: pick,
      where,
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("removeEntry" as const),
      on,
      playlist: pick,
      entry: pick,
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("deliver" as const),
      from: on,
      to: on,
      order: fc.array(fc.nat(200), { maxLength: 12 }),
      duplicate: fc.boolean(),
    }),
    weight: 3,
  },
);

function at<T>(items: readonly T[], index: number): T | undefined {
  return items.length === 0 ? undefined : items[index % items.length];
}

/** The ops an engine made, as any peer receives them. */
function madeBy(engine: DeviceEngine): LwwOp[] {
  return allPending(engine.profile.db).map((op) => ({ ...op, deviceId: engine.deviceId() }));
}

function receive(engine: DeviceEngine, ops: readonly LwwOp[]): void {
  const library = new LibraryState(engine.profile.db, engine.profile.clock, () =>
    engine.deviceId(),
  );
  engine.profile.db.transaction(() => {
    for (const op of ops) {
      library.clock.observe(op.lamportTs);
      library.fold(op);
    }
  })();
}

async function run(engines: DeviceEngine[], s: Step): Promise<void> {
  if (s.kind === "deliver") {
    const from = engines[s.from] as DeviceEngine;
    const to = engines[s.to] as DeviceEngine;
    if (from === to) return;
    const ops = madeBy(from);
    const chosen = s.order
      .map((i) => ops[i % Math.max(1, ops.length)])
      .filter((op) => op !== undefined);
    receive(to, s.duplicate ? [...chosen, ...chosen.reverse()] : chosen);
    return;
  }
  const engine = engines[s.on] as DeviceEngine;
  const playlists = engine.playlists();
  const tracks = engine.tracks();
  const placement = (entries: { id: string }[], p: Placement) => {
    const anchor = p.kind === "end" ? undefined : at(entries, p.pick);
    return anchor && p.kind !== "end" ? { [p.kind]: anchor.id } : {};
  };
  switch (s.kind) {
    case "createPlaylist":
      await engine.createPlaylist(s.name);
      return;
    case "addTrack":
      await engine.addTrack({ title: s.title });
      return;
    case "renamePlaylist": {
      const p = at(playlists, s.pick);
      if (p) await engine.renamePlaylist(p.id, s.name);
      return;
    }
    case "deletePlaylist": {
      const p = at(playlists, s.pick);
      if (p) await engine.deletePlaylist(p.id);
      return;
    }
    case "deleteTrack": {
      const t = at(tracks, s.pick);
      if (t) await engine.deleteTrack(t.id);
      return;
    }
    case "addEntry": {
      const p = at(playlists, s.playlist);
      const t = at(tracks, s.track);
      if (!p || !t) return;
      const entries = engine.playlist(p.id)?.entries ?? [];
      await engine.addEntry(p.id, t.id, placement(entries, s.where));
      return;
    }
    case "moveEntry": {
      const p = at(playlists, s.playlist);
      const entries = p ? (engine.playlist(p.id)?.entries ?? []) : [];
      const entry = at(entries, s.entry);
      if (!entry) return;
      const others = entries.filter((e) => e.id !== entry.id);
      await engine.moveEntry(entry.id, placement(others, s.where));
      return;
    }
    case "removeEntry": {
      const p = at(playlists, s.playlist);
      const entry = at(p ? (engine.playlist(p.id)?.entries ?? []) : [], s.entry);
      if (entry) await engine.removeEntry(entry.id);
      return;
    }
  }
}

describe("convergence", () => {
  it("engines that apply the same ops in any order, duplicated, end with identical libraries", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 5, maxLength: 40 }),
        fc.array(fc.nat(), { minLength: ENGINES, maxLength: ENGINES }),
        async (steps, seeds) => {
          const fleet = new EngineFleet();
          try {
            const engines = Array.from({ length: ENGINES }, (_, i) => fleet.open(`device-${i}`));
            for (const s of steps) await run(engines, s);
            const everything = engines.flatMap(madeBy);
            engines.forEach((engine, i) => {
              const seed = seeds[i] ?? 0;
              // A different order per engine (a rotation and a reversal), each op twice.
              const rotated = everything.map(
                (_, k) => everything[(k + seed) % everything.length] as LwwOp,
              );
              receive(
                engine,
                seed % 2 === 0 ? [...rotated, ...rotated] : [...rotated].reverse().concat(rotated),
              );
            });
            const [first, ...rest] = engines.map((engine) => engine.snapshot());
            for (const other of rest) expect(other).toEqual(first);
          } finally {
            await fleet.close();
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});
