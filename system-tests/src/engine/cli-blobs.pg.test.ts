import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { engineSuite } from "../support/engine-suite.js";
import { jsonCli } from "../support/json-cli.js";

/*
 * Playlist covers from the headless CLI (the command table's cover commands): set on one
 * profile, fetched and saved byte-identical by another; a file over the server's limit is
 * exit 1 with the server's sentence, and the playlist keeps no cover.
 */

const blobDir = mkdtempSync(join(tmpdir(), "chorus-cli-blobs-"));
const suite = engineSuite({
  temp: true,
  backend: { env: { BLOB_DIR: blobDir, BLOB_MAX_BYTES: String(200 * 1024) } },
});
afterAll(() => rmSync(blobDir, { recursive: true, force: true }));

const { cli, ok } = jsonCli(() => suite.temp.path);

function jpeg(name: string, bytes: number): { path: string; data: Buffer } {
  const data = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(bytes - 4)]);
  const path = join(suite.temp.path, name);
  writeFileSync(path, data);
  return { path, data };
}

describe("covers from the CLI", () => {
  it("cover set on one profile, cover get on another: the same bytes; too large is exit 1 and changes nothing", async () => {
    const account = await suite.backend.createAccount();
    for (const name of ["one", "two"]) {
      const { deviceId } = await account.device(name);
      await ok(["profile", "create", name]);
      await ok([
        "bind-token",
        "--profile",
        name,
        "--sync-url",
        suite.backend.syncUrl,
        "--token",
        await suite.backend.mint(account.userId, deviceId),
      ]);
    }
    const playlist = await ok<{ id: string }>([
      "playlist",
      "create",
      "Covered",
      "--profile",
      "one",
    ]);
    const image = jpeg("cover.jpg", 120 * 1024);
    const set = await ok<{ cover: string; uploaded: boolean }>([
      "cover",
      "set",
      playlist.id,
      image.path,
      "--profile",
      "one",
    ]);
    expect(set.uploaded).toBe(true);

    await ok(["sync", "--profile", "two"]);
    const shown = await ok<{ cover: string; state: string; mediaType: string }>([
      "cover",
      "show",
      playlist.id,
      "--profile",
      "two",
    ]);
    expect(shown).toMatchObject({ cover: set.cover, state: "present", mediaType: "image/jpeg" });
    const out = join(suite.temp.path, "saved.jpg");
    await ok(["cover", "get", playlist.id, out, "--profile", "two"]);
    expect(readFileSync(out).equals(image.data)).toBe(true);

    const huge = jpeg("huge.jpg", 300 * 1024);
    const refused = await cli(["cover", "set", playlist.id, huge.path, "--profile", "one"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/over the 204800-byte limit of one blob/);
    expect(refused.stderr).not.toMatch(/at .*\.ts:\d+/);
    const after = await ok<{ cover: string }>(["cover", "show", playlist.id, "--profile", "one"]);
    expect(after.cover).toBe(set.cover);
  });
});
