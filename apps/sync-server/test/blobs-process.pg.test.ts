import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevSigningKey, mintAccessToken } from "@chorus/auth";
import { createPrisma } from "@chorus/db";
import { createTestDatabase, type TestDatabase } from "@chorus/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnv, SettingsError } from "../src/env.js";
import { type SyncServerProcess, startSyncServer } from "../src/testing.js";

const dir = mkdtempSync(join(tmpdir(), "chorus-blob-settings-"));
const devKeyFile = join(dir, "dev-signing-key.json");
const blobDir = join(dir, "blobs");
let db: TestDatabase;
let server: SyncServerProcess;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startSyncServer({
    entry: "source",
    baseEnv: "clean",
    env: {
      DATABASE_URL: db.url,
      LOG_LEVEL: "silent",
      CHORUS_DEV_KEY_FILE: devKeyFile,
      BLOB_DIR: blobDir,
      BLOB_MAX_BYTES: "4096",
      BLOB_QUOTA_BYTES: "6000",
    },
  });
});
afterAll(async () => {
  await server?.stop();
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

describe("blob settings", () => {
  it("the server process stores blobs under BLOB_DIR and applies BLOB_MAX_BYTES and BLOB_QUOTA_BYTES", async () => {
    const prisma = createPrisma(db.url, { max: 1 });
    const user = await prisma.user.create({
      data: { email: "blobs@example.test", passwordHash: "x" },
    });
    const device = await prisma.device.create({
      data: { userId: user.id, name: "d", platform: "linux", appVersion: "0.1.0" },
    });
    await prisma.$disconnect();
    const key = await loadOrCreateDevSigningKey(devKeyFile);
    const { token } = await mintAccessToken(key, {
      userId: user.id,
      role: "user",
      kind: "device",
      deviceId: device.id,
    });
    const put = (bytes: Buffer, size = bytes.length) => {
      const hash = createHash("sha256").update(bytes).digest("hex");
      return fetch(`${server.url}/blobs/${hash}`, {
        method: "PUT",
        headers: {
          authorization: `Bearer ${token}`,
          "x-blob-size": String(size),
          "x-blob-offset": "0",
        },
        body: bytes,
      }).then(async (res) => ({ hash, status: res.status, body: await res.json() }));
    };
    const first = await put(randomBytes(4000));
    expect(first.status).toBe(200);
    const confirmed = await fetch(`${server.url}/blobs/${first.hash}/confirm`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(confirmed.status).toBe(200);
    expect(
      existsSync(
        join(blobDir, "objects", first.hash.slice(0, 2), first.hash.slice(2, 4), first.hash),
      ),
    ).toBe(true);
    expect((await put(randomBytes(10), 4097)).body).toMatchObject({
      error: { code: "blob_too_large", limit: 4096 },
    });
    expect((await put(randomBytes(3000))).body).toMatchObject({
      error: { code: "quota_exceeded", quota: 6000, used: 4000 },
    });
  });

  it("defaults, and a clear refusal of a bad value", () => {
    const base = { DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/chorus" };
    expect(loadEnv(base)).toMatchObject({
      BLOB_DIR: ".data/blobs",
      BLOB_MAX_BYTES: 100 * 1024 * 1024,
      BLOB_QUOTA_BYTES: 1024 * 1024 * 1024,
      BLOB_CHUNK_MAX_BYTES: 8 * 1024 * 1024,
      BLOB_GC_GRACE_HOURS: 24,
      BLOB_UPLOAD_EXPIRY_HOURS: 24,
    });
    expect(() => loadEnv({ ...base, BLOB_CHUNK_MAX_BYTES: "10" })).toThrow(SettingsError);
    expect(() => loadEnv({ ...base, BLOB_MAX_BYTES: "lots" })).toThrow(/BLOB_MAX_BYTES/);
  });
});
