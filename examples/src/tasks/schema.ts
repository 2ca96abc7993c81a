import { defineSyncApp } from "@chorus/desktop-sync/sdk";

/*
 * A second app on the sync SDK, with nothing of the music library in it: projects -> tasks ->
 * subtasks (real foreign keys, ON DELETE CASCADE), a contact with child rows (phone numbers),
 * a credential column that must never leave the device (contacts.api_token), and a read-state
 * table that syncs one column and keeps its deletes local.
 */
export const TASKS_MIGRATIONS = [
  `CREATE TABLE projects (
     id       TEXT PRIMARY KEY NOT NULL,
     name     TEXT NOT NULL,
     archived INTEGER NOT NULL DEFAULT 0
   ) STRICT;
   CREATE TABLE tasks (
     id         TEXT PRIMARY KEY NOT NULL,
     project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
     title      TEXT NOT NULL,
     done       INTEGER NOT NULL DEFAULT 0
   ) STRICT;
   CREATE INDEX tasks_by_project ON tasks (project_id);
   CREATE TABLE subtasks (
     id      TEXT PRIMARY KEY NOT NULL,
     task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
     title   TEXT NOT NULL,
     done    INTEGER NOT NULL DEFAULT 0
   ) STRICT;
   CREATE INDEX subtasks_by_task ON subtasks (task_id);
   CREATE TABLE contacts (
     id        TEXT PRIMARY KEY NOT NULL,
     name      TEXT NOT NULL,
     email     TEXT,
     api_token TEXT
   ) STRICT;
   CREATE TABLE contact_phones (
     id         TEXT PRIMARY KEY NOT NULL,
     contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
     number     TEXT NOT NULL,
     label      TEXT
   ) STRICT;
   CREATE INDEX contact_phones_by_contact ON contact_phones (contact_id);
   CREATE TABLE task_reads (
     task_id    TEXT PRIMARY KEY NOT NULL,
     seen_at    INTEGER,
     local_note TEXT
   ) STRICT;`,
];

export const tasksApp = defineSyncApp({
  name: "tasks",
  migrations: TASKS_MIGRATIONS,
  tables: [
    {
      table: "projects",
      primaryKey: { column: "id", kind: "uuid" },
      columns: ["name", "archived"],
      fallbacks: { name: "", archived: 0 },
    },
    {
      table: "tasks",
      primaryKey: { column: "id", kind: "uuid" },
      columns: ["project_id", "title", "done"],
      parents: [{ column: "project_id", table: "projects" }],
      fallbacks: { title: "", done: 0 },
    },
    {
      table: "subtasks",
      primaryKey: { column: "id", kind: "uuid" },
      columns: ["task_id", "title", "done"],
      parents: [{ column: "task_id", table: "tasks" }],
      fallbacks: { title: "", done: 0 },
    },
    {
      table: "contacts",
      primaryKey: { column: "id", kind: "uuid" },
      // api_token is not listed: it never leaves this device.
      columns: ["name", "email"],
      fallbacks: { name: "" },
    },
    {
      table: "contact_phones",
      entity: "contact_phone",
      primaryKey: { column: "id", kind: "uuid" },
      columns: ["contact_id", "number", "label"],
      parents: [{ column: "contact_id", table: "contacts" }],
      fallbacks: { number: "" },
    },
    {
      // Read state, keyed by the task it is about (every device derives the same key): when
      // a task was seen syncs; clearing it, and the local note, stay on this device.
      table: "task_reads",
      entity: "task_read",
      primaryKey: { column: "task_id", kind: "hash" },
      columns: ["seen_at"],
      syncDeletes: false,
    },
  ],
});

/** The synced content of every table, in a canonical order (what converged devices agree on). */
export function syncedState(db: {
  prepare(sql: string): { all(): unknown[] };
}): Record<string, unknown[]> {
  return {
    projects: db.prepare("SELECT id, name, archived FROM projects ORDER BY id").all(),
    tasks: db.prepare("SELECT id, project_id, title, done FROM tasks ORDER BY id").all(),
    subtasks: db.prepare("SELECT id, task_id, title, done FROM subtasks ORDER BY id").all(),
    contacts: db.prepare("SELECT id, name, email FROM contacts ORDER BY id").all(),
    contact_phones: db
      .prepare("SELECT id, contact_id, number, label FROM contact_phones ORDER BY id")
      .all(),
    parked: db.prepare("SELECT entity, entity_id FROM sdk_parked ORDER BY entity, entity_id").all(),
  };
}
