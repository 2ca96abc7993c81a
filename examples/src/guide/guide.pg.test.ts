import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { DeviceEngine } from "@chorus/desktop-sync";
import { EngineFleet, makeTempDir } from "@chorus/desktop-sync/testing";
import { waitUntil } from "@chorus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../support/server.js";
import { tasksApp } from "../tasks/schema.js";
import { addNote, addNotebook, connect, listNotes, openNotes } from "./notes.js";

/*
 * The README's guide, run as written against a real sync server (the built apps/sync-server
 * over a fresh database): two devices of one account, a note written on one shows up on the
 * other, and what the server stored carries no never-synced column.
 */

let server: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

describe("the guide (packages/desktop-sync/README.md)", () => {
  it("is the code the README shows", () => {
    const readme = readFileSync(
      new URL("../../../packages/desktop-sync/README.md", import.meta.url),
      "utf8",
    );
    const code = readFileSync(new URL("./notes.ts", import.meta.url), "utf8");
    const block = /<!-- guide:start -->\n```ts\n([\s\S]*?)```\n<!-- guide:end -->/.exec(readme);
    expect(block?.[1]).toBe(code);
  });

  it("syncs a note from one device to another through the server, without its draft", async () => {
    const temp = makeTempDir();
    const engines: DeviceEngine[] = [];
    try {
      const account = await server.account();
      const laptop = openNotes(temp.path, "laptop");
      const desktop = openNotes(temp.path, "desktop");
      engines.push(laptop, desktop);
      // Written before the laptop ever connected: the first bind uploads it.
      const notebook = await addNotebook(laptop, "Ideas");
      await addNote(laptop, notebook, "Sync is easy", "private draft text");
      await connect(laptop, await account.device());
      await connect(desktop, await account.device());
      await waitUntil("the note on the desktop", () => listNotes(desktop).length === 1);
      expect(listNotes(desktop)).toEqual([{ id: expect.any(String), body: "Sync is easy" }]);
      expect(desktop.read((db) => db.prepare("SELECT draft FROM notes").pluck().all())).toEqual([
        null,
      ]);
      // And back: an edit on the desktop reaches the laptop.
      await addNote(desktop, notebook, "Both ways");
      await waitUntil("the desktop's note on the laptop", () => listNotes(laptop).length === 2);
      await waitUntil("both queues drained", () =>
        engines.every((e) => e.diagnostics().pendingCount === 0),
      );
      const stored = JSON.stringify(await server.ops(account.userId));
      expect(stored).toContain("Sync is easy");
      expect(stored).not.toContain("draft");
    } finally {
      await Promise.allSettled(engines.map((e) => e.close()));
      temp.remove();
    }
  });
});

describe("the tasks app against the server", () => {
  it("a never-synced column (contacts.api_token) is on no op the server received", async () => {
    const fleet = new EngineFleet();
    try {
      const account = await server.account();
      const a = fleet.open("a", { app: tasksApp });
      const b = fleet.open("b", { app: tasksApp });
      await connect(a, await account.device());
      await connect(b, await account.device());
      const contact = randomUUID();
      await a.write((db) => {
        db.prepare(
          "INSERT INTO contacts (id, name, email, api_token) VALUES (?, 'Ada', 'ada@x.test', 'tok-1')",
        ).run(contact);
        db.prepare(
          "INSERT INTO contact_phones (id, contact_id, number) VALUES (?, ?, '+44 1')",
        ).run(randomUUID(), contact);
      });
      await a.write((db) =>
        db
          .prepare("UPDATE contacts SET api_token = 'tok-2', name = 'Ada L' WHERE id = ?")
          .run(contact),
      );
      await waitUntil("the contact on b", () =>
        b.read((db) => db.prepare("SELECT name FROM contacts").pluck().all()).includes("Ada L"),
      );
      expect(b.read((db) => db.prepare("SELECT api_token FROM contacts").pluck().all())).toEqual([
        null,
      ]);
      expect(b.read((db) => db.prepare("SELECT COUNT(*) FROM contact_phones").pluck().get())).toBe(
        1,
      );
      await waitUntil("a drained", () => a.diagnostics().pendingCount === 0);
      const stored = await server.ops(account.userId);
      expect(stored.length).toBe(3);
      expect(JSON.stringify(stored)).not.toMatch(/api_token|tok-/);
    } finally {
      await fleet.close();
    }
  });
});
