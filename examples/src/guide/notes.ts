// The "add sync to your app" guide (packages/desktop-sync/README.md embeds this file, and
// examples/src/guide/guide.pg.test.ts runs it against a real sync server).
import { randomUUID } from "node:crypto";
import { createProfile, DeviceEngine, defineSyncApp, listProfiles } from "@chorus/desktop-sync";

// 1. Your tables, as schema steps the engine runs once each, in order (append only).
//    Primary keys are TEXT (a UUID made on the device, or a content hash); parents are real
//    foreign keys; no UNIQUE constraint besides the key.
const migrations = [
  `CREATE TABLE notebooks (
     id   TEXT PRIMARY KEY NOT NULL,
     name TEXT NOT NULL
   ) STRICT;
   CREATE TABLE notes (
     id          TEXT PRIMARY KEY NOT NULL,
     notebook_id TEXT NOT NULL REFERENCES notebooks (id) ON DELETE CASCADE,
     body        TEXT NOT NULL,
     draft       TEXT
   ) STRICT;
   CREATE INDEX notes_by_notebook ON notes (notebook_id);`,
];

// 2. What syncs. A column not listed never leaves the device (here: notes.draft).
export const notesApp = defineSyncApp({
  name: "notes",
  migrations,
  tables: [
    {
      table: "notebooks",
      primaryKey: { column: "id", kind: "uuid" },
      columns: ["name"],
      fallbacks: { name: "" },
    },
    {
      table: "notes",
      primaryKey: { column: "id", kind: "uuid" },
      columns: ["notebook_id", "body"],
      parents: [{ column: "notebook_id", table: "notebooks" }],
      fallbacks: { body: "" },
    },
  ],
});

// 3. One engine per profile (one SQLite file per profile under dataDir). Opening it runs your
//    migrations, checks the declaration and installs the capture triggers.
export function openNotes(dataDir: string, profile: string): DeviceEngine {
  if (!listProfiles(dataDir).some((p) => p.name === profile)) createProfile(dataDir, profile);
  return DeviceEngine.open({ dataDir, profile, app: notesApp });
}

// 4. Write plain SQL. Each write is one transaction; its ops are queued with it.
export function addNotebook(engine: DeviceEngine, name: string): Promise<string> {
  return engine.write((db) => {
    const id = randomUUID();
    db.prepare("INSERT INTO notebooks (id, name) VALUES (?, ?)").run(id, name);
    return id;
  });
}

export function addNote(
  engine: DeviceEngine,
  notebookId: string,
  body: string,
  draft: string | null = null,
): Promise<string> {
  return engine.write((db) => {
    const id = randomUUID();
    db.prepare("INSERT INTO notes (id, notebook_id, body, draft) VALUES (?, ?, ?, ?)").run(
      id,
      notebookId,
      body,
      draft,
    );
    return id;
  });
}

// 5. Read whenever you like; other devices' changes land in the same tables.
export function listNotes(engine: DeviceEngine): Array<{ id: string; body: string }> {
  return engine.read(
    (db) =>
      db.prepare("SELECT id, body FROM notes ORDER BY body, id").all() as Array<{
        id: string;
        body: string;
      }>,
  );
}

// 6. Connect the profile to an account and sync. A desktop signs in through the browser:
//      await engine.signInWithBrowser({ webUrl, openUrl });
//    scripts and tests bind a device token instead. Then start the sync loop.
export async function connect(
  engine: DeviceEngine,
  account: { syncUrl: string; token: string; userId: string; deviceId: string },
): Promise<void> {
  await engine.bindWithToken(account);
  await engine.start();
}
