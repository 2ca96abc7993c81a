import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, rename, rm, stat, truncate } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

/**
 * Where blob bytes live. Uploads are staged under an upload id and appended chunk by chunk;
 * a confirmed upload is committed under its SHA-256, once for every account that holds it.
 * The disk store below implements it; an S3-compatible store would map staging to a multipart
 * upload (or staged objects), `commit` to completing it under the hash's key, `open` to a GET.
 */
export interface BlobStore {
  /** Bytes staged so far for the upload (0 when nothing is). */
  stagedLength(uploadId: string): Promise<number>;
  /**
   * Writes `body` at `offset` of the staged upload, at most `maxBytes` of it. On any failure
   * (a cut connection, too many bytes) the staged upload is cut back to `offset`, so a resumed
   * upload continues from the last complete chunk. Returns the staged length after the chunk.
   */
  writeChunk(uploadId: string, offset: number, body: Readable, maxBytes: number): Promise<number>;
  /** SHA-256 (lower-case hex) of the staged bytes. */
  hashStaged(uploadId: string): Promise<string>;
  /** Makes the staged upload the blob `sha256` (atomically replacing an identical one). */
  commit(uploadId: string, sha256: string): Promise<void>;
  discard(uploadId: string): Promise<void>;
  /** The committed blob's bytes, or null when it is not stored. */
  open(sha256: string): Promise<{ size: number; stream: Readable } | null>;
  delete(sha256: string): Promise<void>;
}

/** Thrown by writeChunk when the body brings more than maxBytes. */
export class ChunkTooLargeError extends Error {
  override name = "ChunkTooLargeError";
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SHA256 = /^[0-9a-f]{64}$/;

function checked(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new Error(`not a valid ${what}: ${value}`);
  return value;
}

/**
 * Blobs as files: `<dir>/objects/ab/cd/<sha256>` for committed blobs, `<dir>/uploads/<uploadId>`
 * while an upload is staged. Commit is a rename within one file system, so a blob file is either
 * whole or absent.
 */
export class DiskBlobStore implements BlobStore {
  constructor(readonly dir: string) {}

  private uploadPath(uploadId: string): string {
    return join(this.dir, "uploads", checked(uploadId, UUID, "upload id"));
  }

  objectPath(sha256: string): string {
    checked(sha256, SHA256, "SHA-256");
    return join(this.dir, "objects", sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async stagedLength(uploadId: string): Promise<number> {
    try {
      return (await stat(this.uploadPath(uploadId))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
      throw error;
    }
  }

  async writeChunk(
    uploadId: string,
    offset: number,
    body: Readable,
    maxBytes: number,
  ): Promise<number> {
    const path = this.uploadPath(uploadId);
    await mkdir(join(this.dir, "uploads"), { recursive: true });
    // Create it when missing, never truncate what is staged.
    await (await open(path, "a")).close();
    let written = 0;
    const out = createWriteStream(path, { flags: "r+", start: offset });
    try {
      await pipeline(
        body,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            written += chunk.length;
            if (written > maxBytes) {
              throw new ChunkTooLargeError(`the chunk is over the ${maxBytes} bytes it may carry`);
            }
            yield chunk;
          }
        },
        out,
      );
      // Durable before it is acknowledged: a resumed upload trusts the staged length.
      const handle = await open(path, "r+");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      return offset + written;
    } catch (error) {
      await truncate(path, offset).catch(() => {});
      throw error;
    }
  }

  async hashStaged(uploadId: string): Promise<string> {
    const hash = createHash("sha256");
    await pipeline(createReadStream(this.uploadPath(uploadId)), hash);
    return hash.digest("hex");
  }

  async commit(uploadId: string, sha256: string): Promise<void> {
    const target = this.objectPath(sha256);
    await mkdir(join(target, ".."), { recursive: true });
    await rename(this.uploadPath(uploadId), target);
  }

  async discard(uploadId: string): Promise<void> {
    await rm(this.uploadPath(uploadId), { force: true });
  }

  async open(sha256: string): Promise<{ size: number; stream: Readable } | null> {
    const path = this.objectPath(sha256);
    try {
      const { size } = await stat(path);
      return { size, stream: createReadStream(path) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async delete(sha256: string): Promise<void> {
    await rm(this.objectPath(sha256), { force: true });
  }
}
