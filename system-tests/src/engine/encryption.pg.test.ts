import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  type DeviceEngine,
  type EngineOptions,
  isEngineError,
  MASTER_KEY_FILE,
} from "@chorus/desktop-sync";
import { EngineFleet } from "@chorus/desktop-sync/testing";
import { waitUntil } from "@chorus/testing";
import { describe, expect, it } from "vitest";
import type { TestAccount } from "../support/backend.js";
import { engineSuite } from "../support/engine-suite.js";

/*
 * End-to-end encryption through the real engine and server: the first device sets the
 * encryption password, others unlock with it, every value the server stores is ciphertext,
 * and a value the server altered or moved is refused by the receiving engine, never applied.
 */

const suite = engineSuite({ fleet: "test" });

/** The lowest Argon2id cost the protocol accepts: the tests are about the engine, not the KDF. */
const CHEAP: Partial<EngineOptions> = {
  kdfCost: { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 },
};

const PASSWORD = "correct horse battery staple";

async function device(account: TestAccount, name: string): Promise<DeviceEngine> {
  const engine = suite.fleet.open(name, CHEAP);
  await engine.bind((await account.device(name)).session);
  await engine.start();
  return engine;
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isEngineError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a refusal");
}

const drained = (...engines: DeviceEngine[]) =>
  engines.every((engine) => engine.diagnostics().pendingCount === 0);

/** The values of the account's stored ops, as Postgres holds them (JSON text). */
async function storedValues(userId: string): Promise<Array<{ op: string; value: string | null }>> {
  const { rows } = await suite.backend.pool.query<{ op: string; value: string | null }>(
    "SELECT op::text AS op, value::text AS value FROM sync_op WHERE user_id = $1 ORDER BY id",
    [userId],
  );
  return rows;
}

/** Two devices of one account: `a` set the password, `b` unlocked with it. */
async function unlockedPair(account: TestAccount) {
  const a = await device(account, "a");
  await waitUntil("a read the account's key state", () => a.encryptionStatus().account === "off");
  await a.setEncryptionPassword(PASSWORD);
  const b = await device(account, "b");
  await waitUntil("b sees the account is encrypted", () => b.encryptionStatus().needsPassword);
  await b.unlockEncryption(PASSWORD);
  return { a, b };
}

describe("end-to-end encryption between two engines", () => {
  it("the first device sets the password, the second unlocks; edits go both ways and the server stores only ciphertext", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const a = await device(account, "a");
    await waitUntil("a read the account's key state", () => a.encryptionStatus().account === "off");
    const status = await a.setEncryptionPassword(PASSWORD);
    expect(status).toMatchObject({ account: "on", epoch: 1, unlocked: true, needsPassword: false });

    // The account has a key now: a second "first device" is refused and told to unlock.
    const b = await device(account, "b");
    expect((await refusal(b.setEncryptionPassword("another password"))).code).toBe("key_exists");
    await waitUntil("b waits for the password", () => b.encryptionStatus().needsPassword);

    const fromA = await a.createPlaylist("Secret mixtape from A");
    const track = await a.addTrack({ title: "Hidden title", artist: "Hidden artist" });
    await a.addEntry(fromA.id, track.id);
    await waitUntil("a uploaded", () => drained(a));
    // Locked, b neither applies what it cannot open nor uploads its own edits.
    const waiting = await b.createPlaylist("Made on b while locked");
    expect(b.playlist(fromA.id)).toBeNull();
    expect(b.diagnostics().pendingCount).toBeGreaterThan(0);

    const wrong = await refusal(b.unlockEncryption("correct horse battery stable"));
    expect(wrong.code).toBe("wrong_password");
    expect(wrong.message).toMatch(/not the account's encryption password/);
    expect(b.encryptionStatus().needsPassword).toBe(true);

    await b.unlockEncryption(PASSWORD);
    expect(b.encryptionStatus()).toMatchObject({ unlocked: true, needsPassword: false });
    await waitUntil("b has a's playlist", () => b.playlist(fromA.id)?.entries.length === 1);
    expect(b.playlist(fromA.id)?.name).toBe("Secret mixtape from A");
    await waitUntil(
      "a has the playlist b made while locked",
      () => a.playlist(waiting.id) !== null,
    );

    await b.renamePlaylist(fromA.id, "Secret mixtape, renamed on B");
    await waitUntil(
      "a has b's rename",
      () => a.playlist(fromA.id)?.name === "Secret mixtape, renamed on B",
    );
    await waitUntil("both uploaded", () => drained(a, b));
    expect(JSON.stringify(a.snapshot())).toBe(JSON.stringify(b.snapshot()));

    // What the server stores: every value sealed, no plaintext anywhere.
    const stored = await storedValues(account.userId);
    expect(stored.length).toBeGreaterThanOrEqual(5);
    const text = JSON.stringify(stored);
    for (const secret of ["Secret mixtape", "Hidden title", "Hidden artist", "Made on b"]) {
      expect(text).not.toContain(secret);
    }
    for (const { op, value } of stored) {
      if (op === "delete" || value === null) continue;
      const parsed = JSON.parse(value) as Record<string, unknown>;
      const envelopes = "$sealed" in parsed ? [parsed] : Object.values(parsed);
      for (const envelope of envelopes) expect(envelope).toHaveProperty("$sealed", 1);
    }
    expect(a.encryptionStatus().unreadableCount).toBe(0);
    expect(b.encryptionStatus().unreadableCount).toBe(0);
  });

  it("a password change keeps both devices syncing; a new device needs the new password", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const { a, b } = await unlockedPair(account);

    const wrongOld = await refusal(a.changeEncryptionPassword("not it", "new password"));
    expect(wrongOld.code).toBe("wrong_password");
    await a.changeEncryptionPassword(PASSWORD, "new password");

    const fromA = await a.createPlaylist("after the change, from A");
    await waitUntil("b still reads a's edits", () => b.playlist(fromA.id) !== null);
    const fromB = await b.createPlaylist("after the change, from B");
    await waitUntil("a still reads b's edits", () => a.playlist(fromB.id) !== null);
    expect(b.encryptionStatus()).toMatchObject({ unlocked: true, epoch: 1 });

    const c = await device(account, "c");
    await waitUntil("c waits for the password", () => c.encryptionStatus().needsPassword);
    expect((await refusal(c.unlockEncryption(PASSWORD))).code).toBe("wrong_password");
    await c.unlockEncryption("new password");
    await waitUntil(
      "c has both devices' edits",
      () => c.playlist(fromA.id) !== null && c.playlist(fromB.id) !== null,
    );
  });

  it("a value the server moved to another field or op is refused by the receiving engine, not applied, and the rest still flows", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const { a, b } = await unlockedPair(account);
    const first = await a.createPlaylist("First");
    const second = await a.createPlaylist("Second");
    await waitUntil("b has both playlists", () => b.playlist(second.id) !== null);
    await b.stop();

    await a.renamePlaylist(first.id, "First, renamed");
    await a.renamePlaylist(second.id, "Second, renamed");
    const track = await a.addTrack({ title: "The title", artist: "The artist" });
    await waitUntil("a uploaded", () => drained(a));

    // The server (its database) moves values: the first rename's value onto the second
    // playlist's rename, and the track's title and artist swapped.
    const renames = await suite.backend.pool.query<{ id: string; value: unknown }>(
      `SELECT id, value FROM sync_op WHERE user_id = $1 AND op = 'set' AND field = 'name'
        ORDER BY id DESC LIMIT 2`,
      [account.userId],
    );
    const [secondRename, firstRename] = renames.rows;
    await suite.backend.pool.query("UPDATE sync_op SET value = $1::jsonb WHERE id = $2", [
      JSON.stringify(firstRename?.value),
      secondRename?.id,
    ]);
    const swapped = await suite.backend.pool.query(
      `UPDATE sync_op SET value = jsonb_build_object('title', value->'artist', 'artist', value->'title')
              || (value - 'title' - 'artist')
        WHERE user_id = $1 AND entity = 'track' AND entity_id = $2 AND op = 'insert'`,
      [account.userId, track.id],
    );
    expect(swapped.rowCount).toBe(1);

    await b.start();
    await waitUntil(
      "b applied the untouched rename",
      () => b.playlist(first.id)?.name === "First, renamed",
    );
    await waitUntil("b refused the moved values", () => b.encryptionStatus().unreadableCount >= 2);
    const refused = b.encryptionStatus().unreadable;
    expect(refused.map((op) => op.code)).toEqual(["tampered", "tampered"]);
    expect(refused.map((op) => op.entity).sort()).toEqual(["playlist", "track"]);
    // Never applied: the second playlist keeps its name, the track never appears swapped.
    expect(b.playlist(second.id)?.name).toBe("Second");
    expect(b.tracks().find((t) => t.id === track.id)).toBeUndefined();

    // The queue and the subscription keep flowing past them.
    const later = await a.createPlaylist("After the tampering");
    await waitUntil("b receives later edits", () => b.playlist(later.id) !== null);
    const fromB = await b.createPlaylist("From b after the tampering");
    await waitUntil("a receives b's edit", () => a.playlist(fromB.id) !== null);
  });

  it("a reset starts a new key from one device; the other is told to enter the new password", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const { a, b } = await unlockedPair(account);
    const before = await a.createPlaylist("Before the reset");
    await waitUntil("b has it", () => b.playlist(before.id) !== null);

    const status = await a.resetEncryption("a brand new password");
    expect(status).toMatchObject({ epoch: 2, unlocked: true });
    const after = await a.createPlaylist("After the reset");
    await waitUntil("b learns the key was reset", () => b.encryptionStatus().needsPassword);
    expect(b.diagnostics().lastError?.message).toMatch(/reset on another device/);
    expect(b.playlist(after.id)).toBeNull();

    expect((await refusal(b.unlockEncryption(PASSWORD))).code).toBe("wrong_password");
    await b.unlockEncryption("a brand new password");
    await waitUntil("b reads the new key's edits", () => b.playlist(after.id) !== null);
    const fromB = await b.createPlaylist("From b under the new key");
    await waitUntil("a reads b's edit", () => a.playlist(fromB.id) !== null);
    expect(b.playlist(before.id)?.name).toBe("Before the reset");
  });

  it("an edit made on a device still holding the old key during a reset is refused by the server, waits, and reaches every device once the new password is entered", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const { a, b } = await unlockedPair(account);
    const shared = await a.createPlaylist("Before the reset");
    await waitUntil("b has it", () => b.playlist(shared.id) !== null);

    // a resets the key while its sync is stopped: its re-statement under epoch 2 waits in its
    // queue, so b, online with the epoch-1 key, has nothing yet that tells it of the reset.
    await a.stop();
    expect(await a.resetEncryption("a brand new password")).toMatchObject({ epoch: 2 });
    expect(b.encryptionStatus()).toMatchObject({ epoch: 1, unlocked: true });

    // b edits in that window: its push is sealed under epoch 1.
    await b.renamePlaylist(shared.id, "Renamed on b during the reset");
    const added = await b.createPlaylist("Made on b during the reset");
    await waitUntil(
      "b's push was answered",
      () => b.encryptionStatus().needsPassword || drained(b),
    );
    // The server refused it and stored nothing: b knows the key changed, keeps its edits
    // queued (none set aside) and asks for the new password.
    expect(b.encryptionStatus()).toMatchObject({ needsPassword: true, epoch: 2 });
    expect(b.diagnostics().lastError?.code).toBe("encryption_locked");
    expect(b.diagnostics().lastError?.message).toMatch(/reset on another device/);
    expect(b.diagnostics().pendingCount).toBe(2);
    expect(b.diagnostics().quarantinedCount).toBe(0);
    expect(b.playlist(shared.id)?.name).toBe("Renamed on b during the reset");

    // a comes back and pushes its re-statement under the new key.
    await a.start();
    await waitUntil("a uploaded its re-statement", () => drained(a));

    await b.unlockEncryption("a brand new password");
    await waitUntil("b uploaded its edits under the new key", () => drained(b));
    await waitUntil(
      "a has b's edits from the window",
      () =>
        a.playlist(shared.id)?.name === "Renamed on b during the reset" &&
        a.playlist(added.id) !== null,
    );
    expect(b.playlist(shared.id)?.name).toBe("Renamed on b during the reset");
    expect(a.encryptionStatus().unreadableCount).toBe(0);

    // A fresh device holding only the new key reads them too.
    const c = await device(account, "c");
    await waitUntil("c waits for the password", () => c.encryptionStatus().needsPassword);
    await c.unlockEncryption("a brand new password");
    await waitUntil(
      "c has b's edits from the window",
      () =>
        c.playlist(shared.id)?.name === "Renamed on b during the reset" &&
        c.playlist(added.id)?.name === "Made on b during the reset",
    );
    // Nothing the server stored is sealed under epoch 1 after the reset: the only epoch-1 ops
    // are those from before it.
    const epochs = (await storedValues(account.userId)).map(({ value }) =>
      value === null ? null : (JSON.stringify(JSON.parse(value)).match(/"e":(\d+)/)?.[1] ?? null),
    );
    const lastOld = epochs.lastIndexOf("1");
    expect(epochs.indexOf("2")).toBeGreaterThan(lastOld);
  });

  it("a server-connected write sealed under the old key during a reset is refused and not made; after the new password it goes through", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const { a, b } = await unlockedPair(account);
    await b.setMode("server");
    const made = await b.createPlaylist("Before the reset");
    await waitUntil("a has it", () => a.playlist(made.id) !== null);

    await a.stop();
    await a.resetEncryption("a brand new password");
    const refused = await refusal(b.renamePlaylist(made.id, "Renamed during the reset"));
    expect(refused.code).toBe("key_changed");
    expect(b.playlist(made.id)?.name).toBe("Before the reset");
    await waitUntil("b asks for the new password", () => b.encryptionStatus().needsPassword);

    await a.start();
    await b.unlockEncryption("a brand new password");
    await waitUntil("b loaded the library again", () => b.playlist(made.id) !== null);
    await b.renamePlaylist(made.id, "Renamed after the new password");
    await waitUntil(
      "a has b's rename",
      () => a.playlist(made.id)?.name === "Renamed after the new password",
    );
  });

  it("an account that synced in clear: the password re-states the library sealed; a device loading by a full pull gets all of it, and refuses the clear and the altered values", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const a = await device(account, "a");
    const playlist = await a.createPlaylist("Made in clear");
    const track = await a.addTrack({ title: "Clear track" });
    await a.addEntry(playlist.id, track.id);
    await waitUntil("a uploaded in clear", () => drained(a));

    await a.setEncryptionPassword(PASSWORD);
    await a.renamePlaylist(playlist.id, "Renamed under the key");
    await waitUntil("a uploaded the sealed re-statement", () => drained(a));
    // The server alters the sealed rename (one character of its ciphertext).
    const altered = await suite.backend.pool.query(
      `UPDATE sync_op SET value = jsonb_set(value, '{c}', to_jsonb(
          CASE WHEN left(value->>'c', 1) = 'A' THEN 'B' ELSE 'A' END || substr(value->>'c', 2)))
        WHERE user_id = $1 AND op = 'set' AND field = 'name'`,
      [account.userId],
    );
    expect(altered.rowCount).toBe(1);

    // Server-connected mode loads its library by a full pull (the rebuild of a resync).
    const c = suite.fleet.open("c", CHEAP);
    await c.bind((await account.device("c")).session);
    await c.setMode("server");
    await c.start();
    await waitUntil("c waits for the password", () => c.encryptionStatus().needsPassword);
    // Locked, a server-connected write is refused at once with the reason (it never hangs
    // waiting for a library that cannot load).
    const locked = await refusal(c.createPlaylist("Written while locked"));
    expect(locked.code).toBe("encryption_locked");
    expect(locked.message).toMatch(/enter the encryption password/);
    await c.unlockEncryption(PASSWORD);
    await waitUntil("c rebuilt the library", () => c.playlist(playlist.id)?.entries.length === 1);
    // The altered rename is refused: the sealed re-statement's name stands, never garbage.
    expect(c.playlist(playlist.id)?.name).toBe("Made in clear");
    expect(c.tracks().map((t) => t.title)).toEqual(["Clear track"]);
    const codes = new Set(c.encryptionStatus().unreadable.map((op) => op.code));
    expect(codes).toEqual(new Set(["not_sealed", "tampered"]));
    const fromC = await c.createPlaylist("From c");
    await waitUntil("a reads c's edit", () => a.playlist(fromC.id) !== null);
  });

  it("server-connected mode seals its writes too", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const { a, b } = await unlockedPair(account);
    await b.setMode("server");
    const made = await b.createPlaylist("Written through the server");
    await waitUntil("a reads it", () => a.playlist(made.id)?.name === "Written through the server");
    expect(b.playlist(made.id)?.name).toBe("Written through the server");
    const text = JSON.stringify(await storedValues(account.userId));
    expect(text).not.toContain("Written through");
  });

  it("binding another account forgets the master key of the first", async () => {
    suite.fleet = new EngineFleet();
    const first = await suite.backend.createAccount();
    const { a } = await unlockedPair(first);
    expect(a.encryptionStatus().unlocked).toBe(true);
    const second = await suite.backend.createAccount();
    await a.bind((await second.device("a elsewhere")).session);
    await waitUntil(
      "a read the other account's key state",
      () => a.encryptionStatus().account === "off",
    );
    expect(a.encryptionStatus()).toMatchObject({ unlocked: false, epoch: null });
    expect(existsSync(join(a.profile.dir, MASTER_KEY_FILE))).toBe(false);
  });
});
