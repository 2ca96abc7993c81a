import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DeviceEngine, type EngineOptions, isEngineError } from "@chorus/desktop-sync";
import { EngineFleet } from "@chorus/desktop-sync/testing";
import { waitUntil } from "@chorus/testing";
import { afterAll, describe, expect, it } from "vitest";
import type { TestAccount } from "../support/backend.js";
import { engineSuite } from "../support/engine-suite.js";

/*
 * Blobs through the real engine and server (ADR 0024), with a playlist's cover image: a file
 * attached on one device arrives byte-identical on another; an encrypted account's server
 * holds only sealed bytes under a name that is not the plaintext's hash; the server's size and
 * quota refusals reach the caller as typed errors and leave nothing behind anywhere; an upload
 * cut mid-way resumes from the server's last whole chunk.
 */

const MiB = 1024 * 1024;
const blobDir = mkdtempSync(join(tmpdir(), "chorus-blobs-"));
const files = mkdtempSync(join(tmpdir(), "chorus-covers-"));

const suite = engineSuite({
  fleet: "test",
  backend: {
    env: {
      BLOB_DIR: blobDir,
      BLOB_MAX_BYTES: String(4 * MiB),
      BLOB_QUOTA_BYTES: String(6 * MiB),
    },
  },
});

afterAll(() => {
  rmSync(blobDir, { recursive: true, force: true });
  rmSync(files, { recursive: true, force: true });
});

const CHEAP: Partial<EngineOptions> = {
  kdfCost: { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 },
};

/** A PNG signature followed by random bytes: an image as far as the cover check goes. */
function pngFile(name: string, bytes: number): { path: string; data: Buffer } {
  const data = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    randomBytes(bytes - 8),
  ]);
  const path = join(files, name);
  writeFileSync(path, data);
  return { path, data };
}

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

async function device(
  account: TestAccount,
  name: string,
  options: Partial<EngineOptions> = {},
): Promise<DeviceEngine> {
  const engine = suite.fleet.open(name, { ...CHEAP, ...options });
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

async function serverBlobs(userId: string): Promise<Array<{ sha256: string; state: string }>> {
  const { rows } = await suite.backend.pool.query<{ sha256: string; state: string }>(
    "SELECT sha256, state::text AS state FROM blobs WHERE user_id = $1 ORDER BY sha256",
    [userId],
  );
  return rows;
}

const storedFile = (ref: string) => join(blobDir, "objects", ref.slice(0, 2), ref.slice(2, 4), ref);

/** Waits until `engine` holds the file of `ref`, and answers its bytes. */
async function arrived(engine: DeviceEngine, ref: string): Promise<Buffer> {
  await waitUntil("the file arrived", () => engine.blobPath(ref) !== null);
  return readFileSync(engine.blobPath(ref) as string);
}

describe("blobs between two engines", () => {
  it("a cover set on one device appears on the other, byte-identical", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const a = await device(account, "a");
    const b = await device(account, "b");
    await waitUntil("both read the key state", () =>
      [a, b].every((e) => e.encryptionStatus().account === "off"),
    );
    const playlist = await a.createPlaylist("With a cover");
    const image = pngFile("plain.png", 300 * 1024);
    const set = await a.setPlaylistCover(playlist.id, { path: image.path });
    expect(set).toEqual({ id: playlist.id, cover: sha256(image.data), uploaded: true });
    expect(await serverBlobs(account.userId)).toEqual([
      { sha256: sha256(image.data), state: "stored" },
    ]);

    await waitUntil(
      "b has the cover reference",
      () => b.playlist(playlist.id)?.cover === set.cover,
    );
    expect((await arrived(b, set.cover)).equals(image.data)).toBe(true);
    const cover = await b.playlistCover(playlist.id);
    expect(cover).toMatchObject({ state: "present", mediaType: "image/png", cover: set.cover });
    expect(Buffer.from(cover.data as string, "base64").equals(image.data)).toBe(true);
    expect(a.blobs()).toMatchObject({ pending: 0, uploaded: 1, refused: [], missing: 0 });
    expect(b.blobs()).toMatchObject({ pending: 0, missing: 0 });

    // The column holds a reference or nothing: anything else is refused before it is written.
    await expect(
      a.write((db) =>
        db.prepare("UPDATE playlists SET cover = 'not-a-hash' WHERE id = ?").run(playlist.id),
      ),
    ).rejects.toThrow(/holds a blob reference: a lower-case hex SHA-256 or NULL/);
    expect(a.playlist(playlist.id)?.cover).toBe(set.cover);

    // Cleared on b: gone on a too (the file stays until nothing references it).
    await b.clearPlaylistCover(playlist.id);
    await waitUntil("a sees the cover removed", () => a.playlist(playlist.id)?.cover === null);
    expect((await a.playlistCover(playlist.id)).state).toBe("none");
  });

  it("with encryption on, the server holds sealed bytes under a name that is not the plaintext's hash", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const a = await device(account, "a");
    await waitUntil("a read the key state", () => a.encryptionStatus().account === "off");
    await a.setEncryptionPassword("correct horse battery staple");
    const b = await device(account, "b");
    await waitUntil("b sees the account is encrypted", () => b.encryptionStatus().needsPassword);
    await b.unlockEncryption("correct horse battery staple");

    const playlist = await a.createPlaylist("Sealed cover");
    const image = pngFile("secret.png", 200 * 1024);
    const plainHash = sha256(image.data);
    const set = await a.setPlaylistCover(playlist.id, { path: image.path });
    expect(set.uploaded).toBe(true);
    expect(set.cover).not.toBe(plainHash);

    // The server: one blob, named by the hash of what it stores, which is not the image.
    expect(await serverBlobs(account.userId)).toEqual([{ sha256: set.cover, state: "stored" }]);
    const stored = readFileSync(storedFile(set.cover));
    expect(sha256(stored)).toBe(set.cover);
    expect(stored.equals(image.data)).toBe(false);
    expect(stored.length).toBeGreaterThan(image.data.length);
    // No run of the image's bytes appears in what the server stores.
    for (const at of [8, 70_000, 150_000]) {
      expect(stored.indexOf(image.data.subarray(at, at + 32))).toBe(-1);
    }
    // The plaintext's hash is nowhere on the server: not a blob name, not in any op.
    await waitUntil("a uploaded", () => a.diagnostics().pendingCount === 0);
    const { rows } = await suite.backend.pool.query<{ value: string }>(
      "SELECT value::text AS value FROM sync_op WHERE user_id = $1",
      [account.userId],
    );
    expect(JSON.stringify(rows)).not.toContain(plainHash);
    expect(JSON.stringify(rows)).toContain(set.cover);

    // b opens it: the same image, byte for byte.
    await waitUntil(
      "b has the cover reference",
      () => b.playlist(playlist.id)?.cover === set.cover,
    );
    expect((await arrived(b, set.cover)).equals(image.data)).toBe(true);
  });

  it("a file over the server's size limit or the account's quota is refused with a typed error, and nothing is kept", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const a = await device(account, "a");
    await waitUntil("a read the key state", () => a.encryptionStatus().account === "off");
    const playlist = await a.createPlaylist("Refusals");
    await waitUntil("a uploaded", () => a.diagnostics().pendingCount === 0);
    const opsBefore = (await suite.backend.ops(account.userId)).length;

    const huge = pngFile("huge.png", 5 * MiB);
    const tooLarge = await refusal(a.setPlaylistCover(playlist.id, { path: huge.path }));
    expect(tooLarge.code).toBe("blob_too_large");
    expect(tooLarge.message).toMatch(/over the 4194304-byte limit of one blob/);

    const first = pngFile("first.png", 3 * MiB + 512 * 1024);
    const kept = await a.setPlaylistCover(playlist.id, { path: first.path });
    const second = pngFile("second.png", 3 * MiB);
    const overQuota = await refusal(a.setPlaylistCover(playlist.id, { path: second.path }));
    expect(overQuota.code).toBe("quota_exceeded");
    expect(overQuota.message).toMatch(/would pass its quota of 6291456/);

    // Nothing of either refused file anywhere: not in the row, not queued, not on this
    // computer, not on the server (no row, no staged upload).
    expect(a.playlist(playlist.id)?.cover).toBe(kept.cover);
    await waitUntil("a uploaded", () => a.diagnostics().pendingCount === 0);
    expect((await suite.backend.ops(account.userId)).length).toBe(opsBefore + 1);
    expect(a.blobs()).toEqual({ pending: 0, uploaded: 1, refused: [], missing: 0 });
    for (const refused of [huge, second]) {
      expect(a.blobPath(sha256(refused.data))).toBeNull();
    }
    const local = join(a.profile.dir, "blobs", "objects");
    const localFiles = readdirSync(local, { recursive: true, withFileTypes: true }).filter((e) =>
      e.isFile(),
    );
    expect(localFiles.map((e) => e.name)).toEqual([kept.cover]);
    expect(await serverBlobs(account.userId)).toEqual([{ sha256: kept.cover, state: "stored" }]);
    expect(existsSync(storedFile(sha256(second.data)))).toBe(false);
    const uploads = join(blobDir, "uploads");
    const staged = existsSync(uploads) ? readdirSync(uploads) : [];
    const { rows } = await suite.backend.pool.query<{ upload_id: string }>(
      "SELECT upload_id::text FROM blobs WHERE state = 'uploading'",
    );
    expect(staged.filter((id) => !rows.some((r) => r.upload_id === id))).toEqual([]);
  });

  it("an upload cut mid-way resumes from the server's last whole chunk", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    // The device's network fails the third chunk once, as a cut connection does.
    const offsets: number[] = [];
    let cut = false;
    const flaky: typeof fetch = async (input, init) => {
      if (init?.method === "PUT") {
        const offset = Number((init.headers as Record<string, string>)["x-blob-offset"]);
        offsets.push(offset);
        if (!cut && offset === 2 * MiB) {
          cut = true;
          throw new TypeError("fetch failed (connection cut by the test)");
        }
      }
      return fetch(input, init);
    };
    const a = await device(account, "a", { fetch: flaky });
    const b = await device(account, "b");
    await waitUntil("both read the key state", () =>
      [a, b].every((e) => e.encryptionStatus().account === "off"),
    );
    const playlist = await a.createPlaylist("Resumed");
    const image = pngFile("resumed.png", 3 * MiB + 100_000);
    const set = await a.setPlaylistCover(playlist.id, { path: image.path });
    // The cut left the file waiting; the row is written and syncs meanwhile.
    expect(set.uploaded).toBe(false);
    expect(a.blobs().pending).toBe(1);

    await waitUntil("a uploaded the file", () => a.blobs().uploaded === 1);
    // Sent from 0, 1 MiB, 2 MiB (cut); then from the server's 2 MiB, never from 0 again.
    expect(offsets).toEqual([0, MiB, 2 * MiB, 2 * MiB, 3 * MiB]);
    expect(await serverBlobs(account.userId)).toEqual([{ sha256: set.cover, state: "stored" }]);
    await waitUntil(
      "b has the cover reference",
      () => b.playlist(playlist.id)?.cover === set.cover,
    );
    expect((await arrived(b, set.cover)).equals(image.data)).toBe(true);
  });

  it("the device removes the files of blobs nothing references any more, once sync has settled, and keeps referenced, pending and just-attached ones", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const a = await device(account, "a");
    const b = await device(account, "b");
    await waitUntil("both read the key state", () =>
      [a, b].every((e) => e.encryptionStatus().account === "off"),
    );
    const cleared = await a.createPlaylist("Cover cleared");
    const kept = await a.createPlaylist("Cover kept");
    const deleted = await a.createPlaylist("Deleted");
    const covers = {
      cleared: (await a.setPlaylistCover(cleared.id, { path: pngFile("c1.png", 4096).path })).cover,
      kept: (await a.setPlaylistCover(kept.id, { path: pngFile("c2.png", 4096).path })).cover,
      deleted: (await a.setPlaylistCover(deleted.id, { path: pngFile("c3.png", 4096).path })).cover,
    };
    for (const ref of Object.values(covers)) await arrived(b, ref);

    await a.clearPlaylistCover(cleared.id);
    await a.deletePlaylist(deleted.id);
    await waitUntil("a uploaded", () => a.diagnostics().pendingCount === 0);
    await waitUntil(
      "b has both changes",
      () => b.playlist(cleared.id)?.cover === null && b.playlist(deleted.id) === null,
    );

    // With the server down, a attaches a file no row references yet: it waits to upload.
    await a.stop();
    await suite.backend.server.stop();
    const waiting = await a.attachBlob({ path: pngFile("c4.png", 4096).path });
    expect(waiting.uploaded).toBe(false);
    await suite.backend.server.start();

    // Past the attach grace period: the unreferenced covers go, the rest stays.
    const later = Date.now() + 2 * 60 * 60_000;
    const swept = await a.sweepBlobs(later);
    expect(swept.skipped).toBeNull();
    expect(swept.removed.sort()).toEqual([covers.cleared, covers.deleted].sort());
    expect(a.blobPath(covers.cleared)).toBeNull();
    expect(a.blobPath(covers.deleted)).toBeNull();
    expect(a.blobPath(covers.kept)).not.toBeNull();
    expect(a.blobPath(waiting.sha256)).not.toBeNull();
    expect(a.blobs()).toMatchObject({ pending: 1, uploaded: 1, missing: 0 });
    expect((await a.playlistCover(kept.id)).state).toBe("present");

    // On b the files came from a: the same two go, the referenced one stays.
    // (b's worker may have swept them itself already: it sweeps after its runs.)
    expect((await b.sweepBlobs(later)).skipped).toBeNull();
    expect(b.blobPath(covers.cleared)).toBeNull();
    expect(b.blobPath(covers.deleted)).toBeNull();
    expect(b.blobPath(covers.kept)).not.toBeNull();
    expect(b.blobs()).toMatchObject({ missing: 0 });

    // A file just attached (uploaded, its row not written yet) stays within the grace period.
    const fresh = await b.attachBlob({ path: pngFile("c5.png", 4096).path });
    expect(fresh.uploaded).toBe(true);
    expect((await b.sweepBlobs()).removed).toEqual([]);
    expect(b.blobPath(fresh.sha256)).not.toBeNull();
    expect((await b.sweepBlobs(later)).removed).toEqual([fresh.sha256]);

    // While a change waits to upload, nothing is swept (a discard could bring a reference back).
    await a.clearPlaylistCover(kept.id);
    expect(await a.sweepBlobs(later)).toEqual({ removed: [], skipped: "queue_not_empty" });
    expect(a.blobPath(covers.kept)).not.toBeNull();
  });

  it("a cover says how it moves: uploading while it waits to go up, missing when it cannot be fetched, nothing once it is here", async () => {
    suite.fleet = new EngineFleet();
    const account = await suite.backend.createAccount();
    const a = await device(account, "a");
    const b = await device(account, "b");
    await waitUntil("both read the key state", () =>
      [a, b].every((e) => e.encryptionStatus().account === "off"),
    );
    const playlist = await a.createPlaylist("Moving covers");
    await waitUntil("b has the playlist", () => b.playlist(playlist.id) !== null);

    await suite.backend.server.stop();
    const first = await a.setPlaylistCover(playlist.id, { path: pngFile("m1.png", 4096).path });
    expect(first.uploaded).toBe(false);
    expect(await a.playlistCover(playlist.id)).toMatchObject({
      state: "present",
      transfer: "uploading",
    });
    await suite.backend.server.start();
    await waitUntil("a uploaded the cover", () => a.blobs().pending === 0);
    expect((await a.playlistCover(playlist.id)).transfer).toBeNull();
    await arrived(b, first.cover);
    expect(await b.playlistCover(playlist.id)).toMatchObject({
      state: "present",
      transfer: null,
    });

    // The server loses the next cover's bytes before b, stopped meanwhile, can fetch them.
    await b.stop();
    const second = await a.setPlaylistCover(playlist.id, { path: pngFile("m2.png", 4096).path });
    expect(second.uploaded).toBe(true);
    rmSync(storedFile(second.cover), { force: true });
    await b.start();
    await waitUntil(
      "b has the new reference",
      () => b.playlist(playlist.id)?.cover === second.cover,
    );
    expect(await b.playlistCover(playlist.id)).toMatchObject({
      state: "missing",
      transfer: "missing",
    });
  });
});
