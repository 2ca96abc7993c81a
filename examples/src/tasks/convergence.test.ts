import { randomUUID } from "node:crypto";
import type { DeviceEngine, SqliteDatabase } from "@chorus/desktop-sync";
import { EngineFleet } from "@chorus/desktop-sync/testing";
import type { LwwOp } from "@chorus/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { syncedState, tasksApp } from "./schema.js";
import { madeBy, receive } from "./support.js";

/*
 * Two engines of the tasks app make random plain-SQL writes (inserts, edits, deletes at every
 * level of projects -> tasks -> subtasks and contacts -> phones, deletes cascading through
 * real foreign keys), exchange some of their ops in random order with duplicates as they go
 * (so a parent is often deleted on one while its children are edited on the other), then
 * receive everything, reordered and duplicated. Their synced tables must be identical, and
 * no delivery may ever fail on a constraint.
 */

type Table = "projects" | "tasks" | "subtasks" | "contacts" | "contact_phones";
type Step =
  | { kind: "insert"; on: number; table: Table; parent: number; text: string }
  | { kind: "edit"; on: number; table: Table; pick: number; text: string; flag: boolean }
  | { kind: "reparent"; on: number; pick: number; parent: number }
  | { kind: "delete"; on: number; table: Table; pick: number }
  | { kind: "read"; on: number; pick: number; at: number; clear: boolean }
  | { kind: "deliver"; from: number; to: number; order: number[]; duplicate: boolean };

const ENGINES = 2;
const on = fc.nat(ENGINES - 1);
const pick = fc.nat(40);
const table = fc.constantFrom<Table>("projects", "tasks", "subtasks", "contacts", "contact_phones");
const text = fc.constantFrom("a", "b", "Ship it", "Call", "Ünïcode", "");
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant("insert" as const), on, table, parent: pick, text }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("edit" as const),
      on,
      table,
      pick,
      text,
      flag: fc.boolean(),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({ kind: fc.constant("reparent" as const), on, pick, parent: pick }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant("delete" as const), on, table, pick }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant("read" as const),
      on,
      pick,
      at: fc.nat(1_000_000),
      clear: fc.boolean(),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("deliver" as const),
      from: on,
      to: on,
      order: fc.array(fc.nat(300), { maxLength: 15 }),
      duplicate: fc.boolean(),
    }),
    weight: 3,
  },
);

const PARENT: Partial<Record<Table, { table: Table; column: string }>> = {
  tasks: { table: "projects", column: "project_id" },
  subtasks: { table: "tasks", column: "task_id" },
  contact_phones: { table: "contacts", column: "contact_id" },
};
const TEXT_COLUMN: Record<Table, string> = {
  projects: "name",
  tasks: "title",
  subtasks: "title",
  contacts: "name",
  contact_phones: "number",
};
const FLAG_COLUMN: Record<Table, string> = {
  projects: "archived",
  tasks: "done",
  subtasks: "done",
  contacts: "email",
  contact_phones: "label",
};

function ids(db: SqliteDatabase, table: Table | "task_reads"): string[] {
  const key = table === "task_reads" ? "task_id" : "id";
  return db.prepare(`SELECT ${key} FROM ${table} ORDER BY ${key}`).pluck().all() as string[];
}

function at<T>(items: readonly T[], index: number): T | undefined {
  return items.length === 0 ? undefined : items[index % items.length];
}

async function run(engines: DeviceEngine[], s: Step): Promise<void> {
  if (s.kind === "deliver") {
    const from = engines[s.from] as DeviceEngine;
    const to = engines[s.to] as DeviceEngine;
    if (from === to) return;
    const ops = madeBy(from);
    const chosen = s.order
      .map((i) => ops[i % Math.max(1, ops.length)])
      .filter((op): op is LwwOp => op !== undefined);
    receive(to, s.duplicate ? [...chosen, ...[...chosen].reverse()] : chosen);
    return;
  }
  const engine = engines[s.on] as DeviceEngine;
  await engine.write((db) => {
    switch (s.kind) {
      case "insert": {
        const parent = PARENT[s.table];
        if (!parent) {
          db.prepare(`INSERT INTO ${s.table} (id, ${TEXT_COLUMN[s.table]}) VALUES (?, ?)`).run(
            randomUUID(),
            s.text,
          );
          if (s.table === "contacts") {
            db.prepare("UPDATE contacts SET api_token = ? WHERE rowid = last_insert_rowid()").run(
              `secret-${randomUUID()}`,
            );
          }
          return;
        }
        const parentId = at(ids(db, parent.table), s.parent);
        if (!parentId) return;
        db.prepare(
          `INSERT INTO ${s.table} (id, ${parent.column}, ${TEXT_COLUMN[s.table]}) VALUES (?, ?, ?)`,
        ).run(randomUUID(), parentId, s.text);
        return;
      }
      case "edit": {
        const id = at(ids(db, s.table), s.pick);
        if (!id) return;
        const flag =
          s.table === "contacts" || s.table === "contact_phones"
            ? s.flag
              ? s.text
              : null
            : +s.flag;
        db.prepare(
          `UPDATE ${s.table} SET ${TEXT_COLUMN[s.table]} = ?, ${FLAG_COLUMN[s.table]} = ? WHERE id = ?`,
        ).run(`${s.text}!`, flag, id);
        return;
      }
      case "reparent": {
        const id = at(ids(db, "subtasks"), s.pick);
        const parentId = at(ids(db, "tasks"), s.parent);
        if (id && parentId)
          db.prepare("UPDATE subtasks SET task_id = ? WHERE id = ?").run(parentId, id);
        return;
      }
      case "delete": {
        const id = at(ids(db, s.table), s.pick);
        if (id) db.prepare(`DELETE FROM ${s.table} WHERE id = ?`).run(id);
        return;
      }
      case "read": {
        const id = at(ids(db, "tasks"), s.pick);
        if (!id) return;
        if (s.clear) db.prepare("DELETE FROM task_reads WHERE task_id = ?").run(id);
        else
          db.prepare(
            `INSERT INTO task_reads (task_id, seen_at, local_note) VALUES (?, ?, 'mine')
             ON CONFLICT (task_id) DO UPDATE SET seen_at = excluded.seen_at`,
          ).run(id, s.at);
        return;
      }
    }
  });
}

describe("the tasks app on the sync SDK", () => {
  it("two engines converge after random plain-SQL writes, delivered in any order with duplicates", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 10, maxLength: 60 }),
        fc.nat(),
        async (steps, seed) => {
          const fleet = new EngineFleet();
          try {
            const engines = Array.from({ length: ENGINES }, (_, i) =>
              fleet.open(`device-${i}`, { app: tasksApp }),
            );
            for (const s of steps) await run(engines, s);
            const everything = engines.flatMap(madeBy);
            engines.forEach((engine, i) => {
              const shift = (seed + i) % Math.max(1, everything.length);
              const rotated = [...everything.slice(shift), ...everything.slice(0, shift)];
              // One engine gets each op once, newest first (children before their parents);
              // the other gets them rotated, each twice.
              const all = i % 2 === 0 ? [...everything].reverse() : [...rotated, ...rotated];
              // In batches of 1 to 7 ops: a child often lands a batch before its parent.
              for (let start = 0, k = 0; start < all.length; k++) {
                const size = 1 + (((seed >> (k % 16)) + k) % 7);
                receive(engine, all.slice(start, start + size));
                start += size;
              }
            });
            const [first, ...rest] = engines.map((engine) => engine.read(syncedState));
            for (const other of rest) expect(other).toEqual(first);
          } finally {
            await fleet.close();
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it("a project deleted on one device while its task is edited on the other converges on both", async () => {
    const fleet = new EngineFleet();
    try {
      const [a, b] = [fleet.open("a", { app: tasksApp }), fleet.open("b", { app: tasksApp })] as [
        DeviceEngine,
        DeviceEngine,
      ];
      const project = randomUUID();
      const task = randomUUID();
      const subtask = randomUUID();
      await a.write((db) => {
        db.prepare("INSERT INTO projects (id, name) VALUES (?, 'P')").run(project);
        db.prepare("INSERT INTO tasks (id, project_id, title) VALUES (?, ?, 'T')").run(
          task,
          project,
        );
        db.prepare("INSERT INTO subtasks (id, task_id, title) VALUES (?, ?, 'S')").run(
          subtask,
          task,
        );
      });
      receive(b, madeBy(a));
      const seen = madeBy(a).length;
      // Concurrently: A deletes the project (cascading to its task and subtask), B edits them.
      await a.write((db) => db.prepare("DELETE FROM projects WHERE id = ?").run(project));
      await b.write((db) => {
        db.prepare("UPDATE tasks SET title = 'T edited' WHERE id = ?").run(task);
        db.prepare("UPDATE subtasks SET done = 1 WHERE id = ?").run(subtask);
      });
      // The cascade made one delete op per row, children first.
      expect(
        madeBy(a)
          .slice(seen)
          .map((op) => `${op.op} ${op.entity}`),
      ).toEqual(["delete subtasks", "delete tasks", "delete projects"]);
      receive(a, madeBy(b));
      receive(b, madeBy(a).slice(seen));
      expect(a.read(syncedState)).toEqual(b.read(syncedState));
      // The project is gone, so its edited task has nowhere to live: parked on both, not lost.
      expect(a.read((db) => ids(db, "tasks"))).toEqual([]);
      expect(a.parkedCount()).toBe(b.parkedCount());
    } finally {
      await fleet.close();
    }
  });
});
