import { CryptoError } from "@chorus/crypto";
import type { JsonValue, OpInput, PullResult, SyncOp } from "@chorus/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpCipher, openRemote } from "../engine/encryption.js";
import type { DeviceEngine } from "../engine.js";
import { LibraryState } from "../library-state.js";
import { enqueue, quarantine } from "../queue.js";
import { defineSyncApp } from "../sdk/schema.js";
import type { SqliteDatabase } from "../store/sqlite.js";
import { EngineFleet } from "../testing/engines.js";
import { rebuildFromServer } from "./resync.js";

/*
 * The batched rebuild (src/lww/rebuild.ts, ADR 0028) against the per-op fold it replaces:
 * random logs of concurrent writers (Lamport stamps out of id order, ties broken by device id
 * in any case, copies of one op), deletes and re-creates, inserts of whole rows, noops, FK
 * children (a child before its parent, a child of a deleted parent, a row missing a NOT NULL
 * column), a CHECK a value can fail, a table whose deletes do not sync, an
 * entity no table declares, values that do not open, and pending local ops on top. Both
 * sides must end with the same registers, rows, parked rows, cursor, clock and refusals.
 */

const MIGRATIONS = [
  `CREATE TABLE projects (
     id   TEXT PRIMARY KEY NOT NULL,
     name TEXT NOT NULL,
     code TEXT CHECK (code IS NULL OR code <> 'c')
   ) STRICT;
   CREATE TABLE tasks (
     id         TEXT PRIMARY KEY NOT NULL,
     project_id TEXT REFERENCES projects (id) ON DELETE CASCADE,
     title      TEXT NOT NULL,
     done       INTEGER NOT NULL DEFAULT 0
   ) STRICT;
   CREATE TABLE subtasks (
     id      TEXT PRIMARY KEY NOT NULL,
     task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
     title   TEXT
   ) STRICT;
   CREATE TABLE reads (
     id      TEXT PRIMARY KEY NOT NULL,
     seen_at INTEGER
   ) STRICT;`,
];

const app = defineSyncApp({
  name: "rebuild_check",
  migrations: MIGRATIONS,
  tables: [
    {
      table: "projects",
      entity: "project",
      primaryKey: { column: "id", kind: "uuid" },
      columns: ["name", "code"],
      fallbacks: { name: "" },
    },
    {
      table: "tasks",
      entity: "task",
      primaryKey: { column: "id", kind: "uuid" },
      columns: ["project_id", "title", "done"],
      parents: [{ column: "project_id", table: "projects" }],
      fallbacks: { title: "", done: 0 },
    },
    {
      table: "subtasks",
      entity: "subtask",
      primaryKey: { column: "id", kind: "uuid" },
      columns: ["task_id", "title"],
      parents: [{ column: "task_id", table: "tasks" }],
    },
    {
      table: "reads",
      entity: "read",
      primaryKey: { column: "id", kind: "uuid" },
      columns: ["seen_at"],
      syncDeletes: false,
    },
  ],
});

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const ids = (base: number, count: number) =>
  Array.from({ length: count }, (_, i) => uuid(base + i));
const PROJECTS = ids(100, 3);
const TASKS = ids(200, 4);
const SUBTASKS = ids(300, 3);
const READS = ids(400, 2);
const ENTITIES: Array<{ entity: string; ids: string[]; fields: string[] }> = [
  { entity: "project", ids: PROJECTS, fields: ["name", "code"] },
  { entity: "task", ids: TASKS, fields: ["project_id", "title", "done"] },
  { entity: "subtask", ids: SUBTASKS, fields: ["task_id", "title"] },
  { entity: "read", ids: READS, fields: ["seen_at"] },
  { entity: "ghost", ids: ids(500, 2), fields: ["x"] },
];
/** Three writers; the third's id is sometimes sent in upper case (the rule lower-cases it). */
const DEVICES = [
  "0a000000-0000-4000-8000-00000000000a",
  "0b000000-0000-4000-8000-00000000000b",
  "0c000000-0000-4000-8000-00000000000c",
];
const LOCAL_DEVICE = "0d000000-0000-4000-8000-00000000000d";

const value: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constantFrom<JsonValue>(...PROJECTS.slice(0, 2), ...TASKS.slice(0, 3)),
  fc.constantFrom<JsonValue>("a", "b", "c", "", null, true, false, 0, 1, 7, { k: [1, "x"] }),
);

interface Target {
  entity: string;
  entityId: string;
  fields: string[];
}
const target: fc.Arbitrary<Target> = fc
  .constantFrom(...ENTITIES)
  .chain(({ entity, ids: pool, fields }) =>
    fc.constantFrom(...pool).map((entityId) => ({ entity, entityId, fields })),
  );

type Draft = Pick<SyncOp, "entity" | "entityId" | "field" | "op" | "value">;
const draft: fc.Arbitrary<Draft> = target.chain(({ entity, entityId, fields }) =>
  fc
    .oneof(
      { weight: 6, arbitrary: fc.record({ field: fc.constantFrom(...fields), value }) },
      {
        weight: 2,
        arbitrary: fc
          .dictionary(fc.constantFrom(...fields), value, { maxKeys: fields.length })
          .map((row) => ({ field: null, value: row as JsonValue, op: "insert" as const })),
      },
      { weight: 2, arbitrary: fc.constant({ field: null, value: null, op: "delete" as const }) },
      { weight: 1, arbitrary: fc.constant({ field: null, value: null, op: "noop" as const }) },
      // Oddities the rule still folds: a set without a field, an insert of a non-object.
      { weight: 1, arbitrary: fc.constant({ field: null, value: "v", op: "set" as const }) },
      { weight: 1, arbitrary: fc.constant({ field: null, value: 3, op: "insert" as const }) },
    )
    .map((shape) => ({ op: "set" as const, ...shape, entity, entityId })),
);

const history = fc.record({
  ops: fc.array(
    fc.record({
      draft,
      device: fc.integer({ min: 0, max: DEVICES.length - 1 }),
      upper: fc.boolean(),
      lamportTs: fc.integer({ min: 1, max: 30 }),
      /** One op in ten is a copy of an earlier op (same operation id and version). */
      copyOf: fc.oneof(
        { weight: 9, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.nat() },
      ),
      /** The value does not open (an encrypted account). */
      unreadable: fc.integer({ min: 0, max: 11 }).map((n) => n === 0),
    }),
    { maxLength: 150, size: "medium" },
  ),
  /** Local ops still queued, stamped from `pendingFrom` on (a local clock's stamps are unique). */
  pending: fc.array(draft, { maxLength: 8, size: "medium" }),
  pendingFrom: fc.integer({ min: 1, max: 30 }),
  quarantineFirst: fc.boolean(),
  pageSize: fc.integer({ min: 1, max: 12 }),
  encrypted: fc.boolean(),
  /** Ops folded into the fast side before its rebuild (the rebuild must forget them). */
  stale: fc.array(draft, { maxLength: 5 }),
});
type History = typeof history extends fc.Arbitrary<infer T> ? T : never;

function logOf(h: History): SyncOp[] {
  const log: SyncOp[] = [];
  h.ops.forEach((spec, i) => {
    const id = i + 1;
    const copied = spec.copyOf !== null && log.length > 0 ? log[spec.copyOf % log.length] : null;
    if (copied) {
      log.push({ ...copied, id });
      return;
    }
    const device = DEVICES[spec.device] as string;
    log.push({
      id,
      operationId: uuid(10_000 + id),
      deviceId: spec.upper && spec.device === 2 ? device.toUpperCase() : device,
      lamportTs: spec.lamportTs,
      ...spec.draft,
      // Sealed values are marked so the test cipher can open (or refuse) them.
      value: h.encrypted
        ? ({ sealed: spec.draft.value, bad: spec.unreadable } as never)
        : spec.draft.value,
      createdAt: "2026-12-01T00:00:00.000Z",
    });
  });
  return log;
}

/** Opens the test's sealed values; records refusals in `refused`. */
function testCipher(refused: string[]): OpCipher {
  return {
    seal: (op) => op,
    open: <T extends SyncOp>(op: T): T => {
      const sealed = op.value as unknown as { sealed: JsonValue; bad: boolean };
      if (sealed.bad) throw new CryptoError("tampered", "does not open");
      return { ...op, value: sealed.sealed };
    },
    refuse: (op) => refused.push(op.operationId),
  };
}

function serve(log: SyncOp[]) {
  return async (input: { since: number; limit: number }): Promise<PullResult> => {
    const page = log.filter((op) => op.id > input.since).slice(0, input.limit);
    const nextSince = page.at(-1)?.id ?? input.since;
    return { ops: page, nextSince, hasMore: log.some((op) => op.id > nextSince) };
  };
}

/** Everything a rebuild decides, in a comparable form. */
function snapshot(db: SqliteDatabase) {
  const all = (sql: string) => db.prepare(sql).all();
  return {
    entities: all("SELECT * FROM lww_entity ORDER BY entity, entity_id"),
    fields: all("SELECT * FROM lww_field ORDER BY entity, entity_id, field"),
    projects: all("SELECT * FROM projects ORDER BY id"),
    tasks: all("SELECT * FROM tasks ORDER BY id"),
    subtasks: all("SELECT * FROM subtasks ORDER BY id"),
    reads: all("SELECT * FROM reads ORDER BY id"),
    parked: all(
      "SELECT entity, entity_id, parent_entity, parent_id, reason FROM sdk_parked ORDER BY entity, entity_id",
    ),
    meta: all("SELECT key, value FROM sync_meta WHERE key IN ('cursor', 'lamport') ORDER BY key"),
    queue: all("SELECT operation_id FROM sync_pending_op ORDER BY id"),
  };
}

function prepare(db: SqliteDatabase, library: LibraryState, h: History): void {
  db.transaction(() => {
    library.clearLibrary();
    db.exec("DELETE FROM sync_pending_op; DELETE FROM sync_quarantined_op;");
    db.exec("UPDATE sync_meta SET value = '0' WHERE key IN ('cursor', 'lamport')");
    h.pending.forEach((d, i) => {
      const op: OpInput = { ...d, operationId: uuid(90_000 + i), lamportTs: h.pendingFrom + i };
      enqueue(db, op, 0);
    });
    if (h.quarantineFirst && h.pending.length > 0) {
      const first = db.prepare("SELECT min(id) FROM sync_pending_op").pluck().get() as number;
      quarantine(db, [{ id: first, reason: "refused" }], 0);
    }
  })();
}

/** The rebuild as it was before ADR 0028: every op folded in id order, one batch. */
function perOpRebuild(library: LibraryState, log: SyncOp[], cipher: OpCipher | undefined): void {
  library.db.transaction(() => {
    library.clearLibrary();
    library.batch(() => {
      let highest = 0;
      for (const op of log) {
        highest = Math.max(highest, op.lamportTs);
        const opened = cipher ? openRemote(cipher, op) : op;
        if (opened) library.fold(opened);
      }
      library.clock.observe(highest);
      library.refoldPending();
    });
    library.setCursor(log.at(-1)?.id ?? 0);
  })();
}

let fleet: EngineFleet;
let reference: DeviceEngine;
let batched: DeviceEngine;
beforeAll(() => {
  fleet = new EngineFleet();
  reference = fleet.open("reference", { app });
  batched = fleet.open("batched", { app });
});
afterAll(async () => {
  await fleet.close();
});

describe("the batched rebuild", () => {
  it("ends exactly where folding every op in id order ends, pending ops on top", async () => {
    await fc.assert(
      fc.asyncProperty(history, async (h) => {
        const log = logOf(h);
        const a = new LibraryState(
          reference.profile.db,
          reference.profile.clock,
          () => LOCAL_DEVICE,
        );
        const b = new LibraryState(batched.profile.db, batched.profile.clock, () => LOCAL_DEVICE);
        prepare(a.db, a, h);
        prepare(b.db, b, h);
        // Stale state on the batched side: the rebuild forgets it.
        b.db.transaction(() =>
          b.batch(() => {
            for (const [i, d] of h.stale.entries()) {
              b.fold({
                ...d,
                operationId: uuid(80_000 + i),
                lamportTs: 99,
                deviceId: DEVICES[0] as string,
              });
            }
          }),
        )();
        const refusedA: string[] = [];
        const refusedB: string[] = [];
        perOpRebuild(a, log, h.encrypted ? testCipher(refusedA) : undefined);
        const result = await rebuildFromServer({
          library: b,
          pull: serve(log),
          pageSize: h.pageSize,
          onProgress: () => {},
          ...(h.encrypted ? { cipher: testCipher(refusedB) } : {}),
        });
        expect(result).toEqual({ ops: log.length, cursor: log.at(-1)?.id ?? 0 });
        expect(snapshot(b.db)).toEqual(snapshot(a.db));
        expect(refusedB).toEqual(refusedA);
      }),
      { numRuns: 150, interruptAfterTimeLimit: 90_000, markInterruptAsFailure: true },
    );
  }, 120_000);
});
