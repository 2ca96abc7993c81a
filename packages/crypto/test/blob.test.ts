import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import {
  AccountKey,
  BLOB_CHUNK_BYTES,
  BLOB_HEADER_BYTES,
  CryptoError,
  createBlobOpener,
  createBlobSealer,
  sealedBlobSize,
} from "../src/index.js";

const userId = "5b4d5c0e-9d0e-4a53-8f3e-0b8f0d4f5c11";
const key = AccountKey.generate(userId);

async function through(
  transform: NodeJS.ReadWriteStream,
  input: Buffer,
  pieces = 7,
): Promise<Buffer> {
  const out: Buffer[] = [];
  const step = Math.max(1, Math.ceil(input.length / pieces));
  const parts = Array.from({ length: Math.ceil(input.length / step) }, (_, i) =>
    input.subarray(i * step, (i + 1) * step),
  );
  await pipeline(
    Readable.from(parts),
    transform,
    async (source: AsyncIterable<Buffer | string>) => {
      for await (const chunk of source) out.push(Buffer.from(chunk));
    },
  );
  return Buffer.concat(out);
}

const seal = (bytes: Buffer, k = key) => through(createBlobSealer(k), bytes);
const open = (bytes: Buffer, k = key) => through(createBlobOpener(k), bytes, 3);

async function openError(bytes: Buffer, k = key): Promise<string> {
  try {
    await open(bytes, k);
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    return (error as CryptoError).code;
  }
  throw new Error("the sealed blob opened");
}

describe("sealed blobs", () => {
  it("round-trips empty, small, exact-chunk and multi-chunk blobs, with the predicted size", async () => {
    for (const size of [0, 1, BLOB_CHUNK_BYTES, BLOB_CHUNK_BYTES + 1, 3 * BLOB_CHUNK_BYTES + 77]) {
      const plain = randomBytes(size);
      const sealed = await seal(plain);
      expect(sealed.length).toBe(sealedBlobSize(size));
      expect(Buffer.compare(await open(sealed), plain)).toBe(0);
    }
  });

  it("detects a flipped byte anywhere, a cut-short blob, a dropped or swapped chunk, extra bytes", async () => {
    const plain = randomBytes(2 * BLOB_CHUNK_BYTES + 500);
    const sealed = await seal(plain);
    for (const at of [
      BLOB_HEADER_BYTES,
      BLOB_HEADER_BYTES + BLOB_CHUNK_BYTES + 20,
      sealed.length - 1,
    ]) {
      const copy = Buffer.from(sealed);
      copy[at] = (copy[at] as number) ^ 1;
      expect(await openError(copy)).toBe("tampered");
    }
    const chunk = BLOB_CHUNK_BYTES + 16;
    const body = sealed.subarray(BLOB_HEADER_BYTES);
    const header = sealed.subarray(0, BLOB_HEADER_BYTES);
    const [c0, c1, c2] = [
      body.subarray(0, chunk),
      body.subarray(chunk, 2 * chunk),
      body.subarray(2 * chunk),
    ];
    expect(await openError(Buffer.concat([header, c0, c1]))).toBe("tampered"); // cut after a chunk
    expect(await openError(Buffer.concat([header, c1, c0, c2 as Buffer]))).toBe("tampered");
    expect(await openError(Buffer.concat([header, c0, c2 as Buffer]))).toBe("tampered");
    expect(await openError(Buffer.concat([sealed, Buffer.from([0])]))).toBe("tampered");
    expect(await openError(header)).toBe("tampered");
  });

  it("another account's key, another epoch or another format does not open", async () => {
    const sealed = await seal(randomBytes(1000));
    expect(await openError(sealed, AccountKey.generate(userId))).toBe("tampered");
    const otherUser = AccountKey.import({
      ...key.exportKey(),
      userId: "0c6a3e59-8d2b-4b0b-9f55-7c0b5b1b2a10",
    });
    expect(await openError(sealed, otherUser)).toBe("tampered");
    expect(await openError(sealed, AccountKey.import({ ...key.exportKey(), epoch: 2 }))).toBe(
      "key_epoch_mismatch",
    );
    expect(await openError(Buffer.from("plain file contents, not sealed at all"))).toBe(
      "unsupported_envelope",
    );
  });
});
