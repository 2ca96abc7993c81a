import { randomUUID } from "node:crypto";
import {
  createProfile,
  DeviceEngine,
  defineSyncApp,
  isEngineError,
  memoryTokenStore,
} from "@chorus/desktop-sync";
import { allPending, EngineFleet, makeTempDir } from "@chorus/desktop-sync/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { syncedState, TASKS_MIGRATIONS, tasksApp } from "./schema.js";
import { madeBy, receive } from "./support.js";

let fleet: EngineFleet;
beforeEach(() => {
  fleet = new EngineFleet();
});
afterEach(async () => {
  await fleet.close();
});

const open = (name: string) => fleet.open(name, { app: tasksApp });

describe("capture by triggers", () => {
  it("a plain-SQL write queues its ops, stamped with the clock, in the write's own transaction", async () => {
    const a = open("a");
    const id = randomUUID();
    await a.write((db) => {
      db.prepare("INSERT INTO projects (id, name) VALUES (?, 'Home')").run(id);
      db.prepare("UPDATE projects SET name = 'House' WHERE id = ?").run(id);
    });
    const ops = allPending(a.profile.db);
    expect(
      ops.map(({ entity, entityId, field, op, value, lamportTs }) => ({
        entity,
        entityId,
        field,
        op,
        value,
        lamportTs,
      })),
    ).toEqual([
      {
        entity: "projects",
        entityId: id,
        field: null,
        op: "insert",
        value: { name: "Home", archived: 0 },
        lamportTs: 1,
      },
      { entity: "projects", entityId: id, field: "name", op: "set", value: "House", lamportTs: 2 },
    ]);
    expect(a.diagnostics().lamport).toBe(2);
    // A write that fails rolls back its rows, its ops and its timestamps together.
    await expect(
      a.write((db) => {
        db.prepare("INSERT INTO projects (id, name) VALUES (?, 'Lost')").run(randomUUID());
        throw new Error("app failed mid-write");
      }),
    ).rejects.toThrow("app failed mid-write");
    expect(allPending(a.profile.db)).toHaveLength(2);
    expect(a.diagnostics().lamport).toBe(2);
  });

  it("a never-synced column (contacts.api_token) is absent from every op, whatever the write", async () => {
    const a = open("a");
    const contact = randomUUID();
    await a.write((db) => {
      db.prepare("INSERT INTO contacts (id, name, api_token) VALUES (?, 'Ada', 'tok-INSERT')").run(
        contact,
      );
      db.prepare("UPDATE contacts SET api_token = 'tok-UPDATE' WHERE id = ?").run(contact);
      db.prepare("UPDATE contacts SET api_token = 'tok-BOTH', email = 'a@x.test' WHERE id = ?").run(
        contact,
      );
      db.prepare("DELETE FROM contacts WHERE id = ?").run(contact);
    });
    const ops = allPending(a.profile.db);
    expect(ops.map((op) => `${op.op} ${op.field ?? "-"}`)).toEqual([
      "insert -",
      "set email",
      "delete -",
    ]);
    const wire = JSON.stringify(ops);
    expect(wire).not.toContain("api_token");
    expect(wire).not.toContain("tok-");
    // Nor in the registers a snapshot or a re-bind is built from.
    const registers = a.profile.db.prepare("SELECT * FROM lww_field").all();
    expect(JSON.stringify(registers)).not.toContain("tok-");
  });

  it("triggers stay silent while remote ops apply: nothing is queued, no echo", async () => {
    const a = open("a");
    const b = open("b");
    await a.write((db) => {
      const project = randomUUID();
      const task = randomUUID();
      db.prepare("INSERT INTO projects (id, name) VALUES (?, 'P')").run(project);
      db.prepare("INSERT INTO tasks (id, project_id, title) VALUES (?, ?, 'T')").run(task, project);
      db.prepare("INSERT INTO subtasks (id, task_id, title) VALUES (?, ?, 'S')").run(
        randomUUID(),
        task,
      );
      db.prepare("UPDATE tasks SET done = 1 WHERE id = ?").run(task);
      db.prepare("DELETE FROM projects WHERE id = ?").run(project);
      db.prepare("INSERT INTO contacts (id, name) VALUES (?, 'C')").run(randomUUID());
    });
    const lamportBefore = b.diagnostics().lamport;
    receive(b, madeBy(a));
    expect(allPending(b.profile.db)).toEqual([]);
    expect(b.read(syncedState).contacts).toHaveLength(1);
    // The clock only observed A's timestamps: B stamped nothing.
    expect(b.diagnostics().lamport).toBe(Math.max(lamportBefore, a.diagnostics().lamport));
    // And B's own writes still capture afterwards.
    await b.write((db) => db.prepare("UPDATE contacts SET name = 'C2'").run());
    expect(allPending(b.profile.db).map((op) => op.field)).toEqual(["name"]);
  });
});

describe("FK-safe apply", () => {
  it("a child arriving before its parent is parked, then applied once the parent arrives", async () => {
    const a = open("a");
    const b = open("b");
    const project = randomUUID();
    const task = randomUUID();
    const subtask = randomUUID();
    await a.write((db) => {
      db.prepare("INSERT INTO projects (id, name) VALUES (?, 'P')").run(project);
      db.prepare("INSERT INTO tasks (id, project_id, title) VALUES (?, ?, 'T')").run(task, project);
      db.prepare("INSERT INTO subtasks (id, task_id, title) VALUES (?, ?, 'S')").run(subtask, task);
    });
    const [projectOp, taskOp, subtaskOp] = madeBy(a);
    // The grandchild first, then the child, each in its own batch: nothing fails, nothing shows.
    receive(b, [subtaskOp as never]);
    receive(b, [taskOp as never]);
    expect(b.read(syncedState).tasks).toEqual([]);
    expect(b.read(syncedState).subtasks).toEqual([]);
    expect(b.parkedCount()).toBe(2);
    receive(b, [projectOp as never]);
    expect(b.read(syncedState)).toEqual(a.read(syncedState));
    expect(b.read(syncedState).subtasks).toEqual([
      { id: subtask, task_id: task, title: "S", done: 0 },
    ]);
    expect(b.parkedCount()).toBe(0);
  });

  it("one batch holding children before parents writes parents first, and deletes children first", async () => {
    const a = open("a");
    const b = open("b");
    await a.write((db) => {
      const contact = randomUUID();
      db.prepare("INSERT INTO contacts (id, name) VALUES (?, 'C')").run(contact);
      db.prepare("INSERT INTO contact_phones (id, contact_id, number) VALUES (?, ?, '1')").run(
        randomUUID(),
        contact,
      );
    });
    // Count every row parked, even for a moment, during the apply.
    b.profile.db.exec(`CREATE TEMP TABLE parks (entity TEXT);
      CREATE TEMP TRIGGER count_parks AFTER INSERT ON main.sdk_parked
      BEGIN INSERT INTO parks VALUES (NEW.entity); END;`);
    receive(b, [...madeBy(a)].reverse());
    expect(b.read(syncedState)).toEqual(a.read(syncedState));
    expect(b.profile.db.prepare("SELECT COUNT(*) FROM parks").pluck().get()).toBe(0);
    // Deleting both in one batch, parent's op first: the child's row goes first, nothing parks.
    await a.write((db) => db.prepare("DELETE FROM contacts").run());
    const deletes = madeBy(a).filter((op) => op.op === "delete");
    expect(deletes.map((op) => op.entity)).toEqual(["contact_phone", "contacts"]);
    receive(b, [...deletes].reverse());
    expect(b.read(syncedState)).toEqual(a.read(syncedState));
    expect(b.profile.db.prepare("SELECT COUNT(*) FROM parks").pluck().get()).toBe(0);
  });

  it("a table whose deletes do not sync keeps them local, and syncs only its listed column", async () => {
    const a = open("a");
    const b = open("b");
    const project = randomUUID();
    const task = randomUUID();
    await a.write((db) => {
      db.prepare("INSERT INTO projects (id, name) VALUES (?, 'P')").run(project);
      db.prepare("INSERT INTO tasks (id, project_id, title) VALUES (?, ?, 'T')").run(task, project);
      db.prepare("INSERT INTO task_reads (task_id, seen_at, local_note) VALUES (?, 5, 'x')").run(
        task,
      );
      db.prepare("DELETE FROM task_reads WHERE task_id = ?").run(task);
    });
    expect(madeBy(a).filter((op) => op.entity === "task_read")).toMatchObject([
      { op: "insert", value: { seen_at: 5 } },
    ]);
    receive(b, madeBy(a));
    expect(b.read((db) => db.prepare("SELECT * FROM task_reads").all())).toEqual([
      { task_id: task, seen_at: 5, local_note: null },
    ]);
  });
});

describe("the declaration", () => {
  const openWith = (app: Parameters<typeof defineSyncApp>[0]) => {
    const temp = makeTempDir();
    createProfile(temp.path, "p");
    try {
      const engine = DeviceEngine.open({
        dataDir: temp.path,
        profile: "p",
        tokenStore: memoryTokenStore(),
        app: defineSyncApp(app),
      });
      void engine.close();
      return null;
    } catch (error) {
      return isEngineError(error) ? `${error.code}: ${error.message}` : String(error);
    } finally {
      temp.remove();
    }
  };
  const base = {
    name: "tasks",
    migrations: TASKS_MIGRATIONS,
    tables: [
      { table: "projects", primaryKey: { column: "id", kind: "uuid" as const }, columns: ["name"] },
    ],
  };

  it("is refused at start with a clear message when it does not match the tables", () => {
    expect(openWith(base)).toBeNull();
    expect(
      openWith({ ...base, tables: [{ ...base.tables[0], columns: ["name", "colour"] }] as never }),
    ).toMatch(/invalid_app_schema: .*table "projects" has no column "colour"/);
    expect(
      openWith({
        ...base,
        tables: [
          ...base.tables,
          {
            table: "tasks",
            primaryKey: { column: "id", kind: "uuid" },
            columns: ["project_id", "title"],
          },
        ],
      }),
    ).toMatch(/FOREIGN KEY \(project_id\) REFERENCES projects is not declared as a parent/);
    expect(
      openWith({
        ...base,
        migrations: [...TASKS_MIGRATIONS, "CREATE UNIQUE INDEX projects_name ON projects (name)"],
      }),
    ).toMatch(/UNIQUE constraint or index "projects_name"/);
    expect(() =>
      defineSyncApp({ ...base, tables: [{ ...base.tables[0], table: "Projects!" }] } as never),
    ).toThrow(/tables\.0\.table: a table name must be lower-case/);
  });

  it("upgrading it (a new column, a new table) reinstalls the triggers and snapshots what is new, but never an empty new column that could overwrite another device's value", async () => {
    const temp = makeTempDir();
    createProfile(temp.path, "p");
    const v1 = defineSyncApp({
      name: "tasks",
      migrations: TASKS_MIGRATIONS,
      tables: [
        { table: "projects", primaryKey: { column: "id", kind: "uuid" }, columns: ["name"] },
      ],
    });
    const project = randomUUID();
    const contact = randomUUID();
    let engine = DeviceEngine.open({ dataDir: temp.path, profile: "p", app: v1 });
    try {
      await engine.write((db) => {
        db.prepare("INSERT INTO projects (id, name, archived) VALUES (?, 'P', 1)").run(project);
        db.prepare("INSERT INTO contacts (id, name) VALUES (?, 'not synced yet')").run(contact);
        db.prepare("UPDATE projects SET archived = 0 WHERE id = ?").run(project);
      });
      expect(allPending(engine.profile.db).map((op) => `${op.op} ${op.entity}`)).toEqual([
        "insert projects",
      ]);
    } finally {
      await engine.close();
    }
    const v2 = defineSyncApp({
      name: "tasks",
      migrations: [...TASKS_MIGRATIONS, "ALTER TABLE projects ADD COLUMN colour TEXT"],
      tables: [
        {
          table: "projects",
          primaryKey: { column: "id", kind: "uuid" },
          columns: ["name", "archived", "colour"],
        },
        { table: "contacts", primaryKey: { column: "id", kind: "uuid" }, columns: ["name"] },
      ],
    });
    engine = DeviceEngine.open({ dataDir: temp.path, profile: "p", app: v2 });
    try {
      const snapshot = allPending(engine.profile.db)
        .slice(1)
        .map((op) => ({ op: op.op, entity: op.entity, field: op.field, value: op.value }));
      expect(snapshot).toEqual([
        { op: "set", entity: "projects", field: "archived", value: 0 },
        { op: "insert", entity: "contacts", field: null, value: { name: "not synced yet" } },
      ]);
      // The new column is still empty here: a set of NULL stamped now could win over a colour
      // another device, upgraded earlier, already chose, so none is queued.
      expect(allPending(engine.profile.db).filter((op) => op.field === "colour")).toEqual([]);
      await engine.write((db) =>
        db.prepare("UPDATE projects SET colour = 'teal' WHERE id = ?").run(project),
      );
      expect(allPending(engine.profile.db).at(-1)).toMatchObject({
        field: "colour",
        value: "teal",
      });
      // Opening again with the same declaration reinstalls nothing and queues nothing.
      const queued = allPending(engine.profile.db).length;
      await engine.close();
      engine = DeviceEngine.open({ dataDir: temp.path, profile: "p", app: v2 });
      expect(allPending(engine.profile.db)).toHaveLength(queued);
    } finally {
      await engine.close();
      temp.remove();
    }
  });
});
