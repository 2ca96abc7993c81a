import { createHash, randomBytes, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskBlobStore, runBlobGc } from "@chorus/api";
import { createAccountKey, sealOp } from "@chorus/crypto";
import { waitUntil } from "@chorus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENEROUS_LIMITS, Harness, type TestDevice } from "./harness.js";

const KiB = 1024;
const settings = {
  maxBytes: 1024 * KiB,
  quotaBytes: 1536 * KiB,
  chunkMaxBytes: 256 * KiB,
  gcGraceMs: 60 * 60 * 1000,
  uploadExpiryMs: 2 * 60 * 60 * 1000,
};
let h: Harness;
let dir: string;
let store: DiskBlobStore;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "chorus-blobs-"));
  store = new DiskBlobStore(dir);
  h = await Harness.start({ rateLimits: GENEROUS_LIMITS, blobs: { store, settings } });
});
afterAll(async () => {
  await h.close();
  await rm(dir, { recursive: true, force: true });
});

const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const url = (path: string) => `http://${h.base}${path}`;

async function put(device: TestDevice, hash: string, size: number, offset: number, chunk: Buffer) {
  const res = await fetch(url(`/blobs/${hash}`), {
    method: "PUT",
    headers: {
      authorization: `Bearer ${device.token}`,
      "x-blob-size": String(size),
      "x-blob-offset": String(offset),
      "content-type": "application/octet-stream",
    },
    body: chunk,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function call(device: TestDevice, method: string, path: string) {
  const res = await fetch(url(path), {
    method,
    headers: { authorization: `Bearer ${device.token}` },
  });
  const type = res.headers.get("content-type") ?? "";
  return {
    status: res.status,
    body: type.includes("json")
      ? ((await res.json()) as Record<string, unknown>)
      : Buffer.from(await res.arrayBuffer()),
  };
}

/** Uploads `bytes` in chunks of `chunk` bytes and confirms it. */
async function upload(device: TestDevice, bytes: Buffer, chunk = 256 * KiB): Promise<string> {
  const hash = sha(bytes);
  for (let offset = 0; offset < bytes.length || offset === 0; offset += chunk) {
    const answer = await put(
      device,
      hash,
      bytes.length,
      offset,
      bytes.subarray(offset, offset + chunk),
    );
    expect(answer.status).toBe(200);
    if (bytes.length === 0) break;
  }
  const confirmed = await call(device, "POST", `/blobs/${hash}/confirm`);
  expect(confirmed).toMatchObject({ status: 200, body: { state: "stored", size: bytes.length } });
  return hash;
}

/** Sends the first `sent` of `length` declared bytes of a chunk, then cuts the connection. */
function cutChunk(
  device: TestDevice,
  hash: string,
  size: number,
  offset: number,
  bytes: Buffer,
  sent: number,
) {
  return new Promise<void>((resolve) => {
    const req = request(url(`/blobs/${hash}`), {
      method: "PUT",
      headers: {
        authorization: `Bearer ${device.token}`,
        "x-blob-size": String(size),
        "x-blob-offset": String(offset),
        "content-length": String(bytes.length),
      },
    });
    req.on("error", () => resolve());
    req.write(bytes.subarray(0, sent), () => {
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
  });
}

async function stagedFiles(): Promise<string[]> {
  return existsSync(join(dir, "uploads")) ? readdir(join(dir, "uploads")) : [];
}

describe("blob uploads", () => {
  it("resumes after a cut connection from the last stored chunk; the download is byte-identical", async () => {
    const device = await h.createDevice();
    const bytes = randomBytes(600 * KiB + 123);
    const hash = sha(bytes);
    const chunk = 200 * KiB;
    expect((await put(device, hash, bytes.length, 0, bytes.subarray(0, chunk))).body).toEqual({
      sha256: hash,
      state: "uploading",
      size: bytes.length,
      received: chunk,
    });
    // The second chunk's connection is cut half-way: the server keeps only whole chunks.
    await cutChunk(device, hash, bytes.length, chunk, bytes.subarray(chunk, 2 * chunk), 100 * KiB);
    let received = -1;
    await waitUntil("the cut chunk to be dropped and the upload writable again", async () => {
      const status = await call(device, "GET", `/blobs/${hash}/upload`);
      received = (status.body as Record<string, number>).received ?? -1;
      if (received !== chunk) return false;
      const resumed = await put(
        device,
        hash,
        bytes.length,
        received,
        bytes.subarray(received, received + chunk),
      );
      return resumed.status === 200;
    });
    // A chunk at the wrong offset is refused with where to resume.
    const wrong = await put(device, hash, bytes.length, 0, bytes.subarray(0, 10));
    expect(wrong).toMatchObject({
      status: 409,
      body: { error: { code: "offset_mismatch", received: 2 * chunk } },
    });
    // Confirming before the last chunk says how much is missing.
    expect(await call(device, "POST", `/blobs/${hash}/confirm`)).toMatchObject({
      status: 409,
      body: { error: { code: "incomplete", received: 2 * chunk, size: bytes.length } },
    });
    await put(device, hash, bytes.length, 2 * chunk, bytes.subarray(2 * chunk));
    expect(await call(device, "POST", `/blobs/${hash}/confirm`)).toMatchObject({
      status: 200,
      body: { state: "stored", size: bytes.length },
    });
    const download = await call(device, "GET", `/blobs/${hash}`);
    expect(download.status).toBe(200);
    expect(Buffer.compare(download.body as Buffer, bytes)).toBe(0);
    // Uploading it again is answered "stored" at once.
    expect((await put(device, hash, bytes.length, 0, bytes.subarray(0, 10))).body.state).toBe(
      "stored",
    );
  });

  it("a hash mismatch at confirm drops the upload and stores nothing", async () => {
    const device = await h.createDevice();
    const bytes = randomBytes(1000);
    const claimed = sha(Buffer.from("something else"));
    await put(device, claimed, bytes.length, 0, bytes);
    const answer = await call(device, "POST", `/blobs/${claimed}/confirm`);
    expect(answer).toMatchObject({
      status: 422,
      body: { error: { code: "hash_mismatch", expected: claimed, actual: sha(bytes) } },
    });
    expect(await h.prisma.blob.count({ where: { userId: device.userId } })).toBe(0);
    expect(await store.open(claimed)).toBeNull();
    expect(await call(device, "GET", `/blobs/${claimed}`)).toMatchObject({ status: 404 });
  });

  it("refuses a blob over the size limit and one past the quota clearly, storing nothing", async () => {
    const device = await h.createDevice();
    const before = await stagedFiles();
    const big = randomBytes(10);
    const tooLarge = await put(device, sha(big), settings.maxBytes + 1, 0, big);
    expect(tooLarge).toMatchObject({
      status: 413,
      body: {
        error: { code: "blob_too_large", limit: settings.maxBytes, actual: settings.maxBytes + 1 },
      },
    });

    await upload(device, randomBytes(1000 * KiB));
    const next = randomBytes(600 * KiB);
    const refused = await put(device, sha(next), next.length, 0, next.subarray(0, 256 * KiB));
    expect(refused).toMatchObject({
      status: 413,
      body: {
        error: {
          code: "quota_exceeded",
          quota: settings.quotaBytes,
          used: 1000 * KiB,
          requested: next.length,
        },
      },
    });
    expect(await h.prisma.blob.count({ where: { userId: device.userId } })).toBe(1);
    expect(await stagedFiles()).toEqual(before);

    // A chunk over the chunk limit is refused too, and leaves nothing staged.
    const small = randomBytes(300 * KiB);
    const chunky = await put(device, sha(small), small.length, 0, small);
    expect(chunky).toMatchObject({
      status: 413,
      body: { error: { code: "chunk_too_large", limit: 256 * KiB } },
    });
    const status = await call(device, "GET", `/blobs/${sha(small)}/upload`);
    expect(status.body).toMatchObject({ received: 0 });
  });

  it("another account cannot read, probe or confirm a blob, even one it could name", async () => {
    const owner = await h.createDevice();
    const sibling = await h.createDevice(owner.userId);
    const stranger = await h.createDevice();
    const bytes = randomBytes(5000);
    const hash = await upload(owner, bytes);
    expect((await call(sibling, "GET", `/blobs/${hash}`)).status).toBe(200);
    expect(await call(stranger, "GET", `/blobs/${hash}`)).toMatchObject({ status: 404 });
    expect(await call(stranger, "GET", `/blobs/${hash}/upload`)).toMatchObject({ status: 404 });
    expect(await call(stranger, "POST", `/blobs/${hash}/confirm`)).toMatchObject({ status: 404 });
    // Without a token, or with a web token, nothing is served.
    expect((await fetch(url(`/blobs/${hash}`))).status).toBe(401);
    const web = await fetch(url(`/blobs/${hash}`), {
      headers: { authorization: `Bearer ${await h.webClientToken(owner.userId)}` },
    });
    expect(web.status).toBe(403);
    // A revoked device is refused.
    await h.prisma.device.update({
      where: { id: sibling.deviceId },
      data: { revokedAt: new Date() },
    });
    h.server.services.devices.invalidate(sibling.deviceId);
    expect((await call(sibling, "GET", `/blobs/${hash}`)).status).toBe(401);
  });
});

describe("blob garbage collection", () => {
  it("removes only blobs no surviving op references, after compaction, and records the run", async () => {
    const device = await h.createDevice();
    const other = await h.createDevice();
    const [sealedRef, plainRef, unreferenced, superseded] = [1, 2, 3, 4].map(() =>
      randomBytes(2000),
    );
    const hashes = {
      sealed: await upload(device, sealedRef as Buffer),
      plain: await upload(device, plainRef as Buffer),
      unreferenced: await upload(device, unreferenced as Buffer),
      superseded: await upload(device, superseded as Buffer),
    };
    // Another account holds the unreferenced bytes too: their file must stay for it.
    await upload(other, unreferenced as Buffer);
    await h.prisma.blob.updateMany({
      where: { userId: other.userId },
      data: { touchedAt: new Date() },
    });

    const entityId = randomUUID();
    const op = (lamportTs: number, field: string, value: unknown) => ({
      operationId: randomUUID(),
      lamportTs,
      entity: "track",
      entityId,
      field,
      op: "set" as const,
      value: value as never,
    });
    // Values in clear while the account had no key, then sealed ones once it has one (the
    // server refuses plaintext in an account with a key, and sealed values in one without).
    await device.http.sync.push.mutate({
      ops: [
        op(1, "attachments", [{ file: { $blobs: [hashes.plain] } }]),
        op(2, "audio", { $blobs: [hashes.superseded] }),
        op(3, "audio", null),
      ],
    });
    const { key, wrapped } = await createAccountKey(device.userId, "pw", {
      cost: { memoryKiB: 8 * KiB, iterations: 1, parallelism: 1 },
    });
    await device.http.keys.set.mutate({ wrapped });
    const pushed = await device.http.sync.push.mutate({
      ops: [
        sealOp(
          key,
          device.userId,
          op(4, "cover", { image: { $blobs: [hashes.sealed] }, name: "c.jpg" }),
        ),
        // Compaction works strictly below the devices' lowest cursor: one op past the rest.
        sealOp(key, device.userId, op(5, "title", "t")),
      ],
    });
    await device.http.sync.ack.mutate({ lastSeenId: pushed.maxId });
    const compaction = await h.server.services.compaction.run({
      trigger: "manual",
      userIds: [device.userId],
    });
    expect(compaction.outcome).toBe("succeeded");

    const later = new Date(Date.now() + 2 * settings.gcGraceMs);
    // Within the grace period nothing goes, referenced or not.
    const early = await runBlobGc({ prisma: h.prisma, store, settings }, { trigger: "manual" });
    expect(early.blobsDeleted).toBe(0);
    await h.prisma.blob.updateMany({ where: { userId: other.userId }, data: { touchedAt: later } });

    const result = await runBlobGc(
      { prisma: h.prisma, store, settings },
      { trigger: "manual", now: later },
    );
    // The run is global: other tests' unreferenced blobs go too; this account lost exactly two.
    expect(result.outcome).toBe("succeeded");
    expect(result.blobsDeleted).toBeGreaterThanOrEqual(2);
    const kept = await h.prisma.blob.findMany({
      where: { userId: device.userId },
      select: { sha256: true },
    });
    expect(kept.map((b) => b.sha256).sort()).toEqual([hashes.sealed, hashes.plain].sort());
    expect(await store.open(hashes.superseded)).toBeNull();
    expect(await store.open(hashes.sealed)).not.toBeNull();
    expect(await store.open(hashes.plain)).not.toBeNull();
    // Still held by the other account: its file stays and it can read it.
    expect(await store.open(hashes.unreferenced)).not.toBeNull();
    expect((await call(other, "GET", `/blobs/${hashes.unreferenced}`)).status).toBe(200);
    expect((await call(device, "GET", `/blobs/${hashes.superseded}`)).status).toBe(404);

    const run = await h.prisma.blobGcRun.findUnique({ where: { id: BigInt(result.runId) } });
    expect(run).toMatchObject({
      outcome: "succeeded",
      blobsDeleted: result.blobsDeleted,
      usersProcessed: result.usersProcessed,
      bytesFreed: BigInt(result.bytesFreed),
      trigger: "manual",
    });
    expect(run?.finishedAt).not.toBeNull();
  });

  it("drops uploads never confirmed once they expire", async () => {
    const device = await h.createDevice();
    const bytes = randomBytes(4000);
    await put(device, sha(bytes), bytes.length, 0, bytes.subarray(0, 1000));
    const later = new Date(Date.now() + 2 * settings.uploadExpiryMs);
    const result = await runBlobGc(
      { prisma: h.prisma, store, settings },
      { trigger: "manual", now: later },
    );
    expect(result.uploadsExpired).toBeGreaterThanOrEqual(1);
    expect(await h.prisma.blob.count({ where: { userId: device.userId } })).toBe(0);
  });
});
