import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import { type PrismaClient, USER_LOCK_STATEMENT } from "@chorus/db";
import { type BlobStore, ChunkTooLargeError } from "./store.js";

/** Bounds of the blob endpoints; every one is a sync-server setting (docs/deploy.md). */
export interface BlobSettings {
  /** Largest blob (declared size). */
  maxBytes: number;
  /** Bytes of blobs one account may hold, stored and uploading together. */
  quotaBytes: number;
  /** Largest chunk one request may carry. */
  chunkMaxBytes: number;
  /** Garbage collection spares blobs confirmed this recently (they may not be referenced yet). */
  gcGraceMs: number;
  /** Uploads never confirmed are dropped this long after they started. */
  uploadExpiryMs: number;
}

export const DEFAULT_BLOB_SETTINGS: BlobSettings = {
  maxBytes: 100 * 1024 * 1024,
  quotaBytes: 1024 * 1024 * 1024,
  chunkMaxBytes: 8 * 1024 * 1024,
  gcGraceMs: 24 * 60 * 60 * 1000,
  uploadExpiryMs: 24 * 60 * 60 * 1000,
};

export type BlobErrorCode =
  | "blob_too_large"
  | "quota_exceeded"
  | "chunk_too_large"
  | "offset_mismatch"
  | "size_mismatch"
  | "upload_busy"
  | "incomplete"
  | "hash_mismatch"
  | "not_found"
  | "invalid_request";

const STATUS: Record<BlobErrorCode, number> = {
  blob_too_large: 413,
  quota_exceeded: 413,
  chunk_too_large: 413,
  offset_mismatch: 409,
  size_mismatch: 409,
  upload_busy: 409,
  incomplete: 409,
  hash_mismatch: 422,
  not_found: 404,
  invalid_request: 400,
};

/** A refusal of a blob request: an HTTP status, a code a device switches on, and the numbers. */
export class BlobError extends Error {
  override name = "BlobError";
  readonly status: number;

  constructor(
    readonly code: BlobErrorCode,
    message: string,
    readonly details: Record<string, number | string> = {},
  ) {
    super(message);
    this.status = STATUS[code];
  }

  toJSON() {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

export interface UploadStatus {
  sha256: string;
  state: "uploading" | "stored";
  size: number;
  /** Bytes the server holds: the offset the next chunk starts at. */
  received: number;
}

/** The lock that orders committing a blob file against garbage collection deleting it. */
export const BLOB_LOCK_STATEMENT =
  "SELECT pg_advisory_xact_lock(hashtextextended('chorus:blob:' || $1, 0))";

/**
 * Content-addressed, resumable blob uploads of an account (docs/design.md#attachments-blobs):
 * chunks at the offset the server reports, a hash check at confirm, a per-account quota and a
 * size bound checked before anything is stored. An account reads only blobs it confirmed
 * itself, whoever else holds the same bytes.
 */
export class BlobService {
  private readonly writing = new Set<string>();

  constructor(
    private readonly prisma: PrismaClient,
    readonly store: BlobStore,
    readonly settings: BlobSettings,
  ) {}

  async status(userId: string, sha256: string): Promise<UploadStatus | null> {
    const row = await this.prisma.blob.findUnique({ where: { userId_sha256: { userId, sha256 } } });
    if (!row) return null;
    const size = Number(row.size);
    return {
      sha256,
      state: row.state,
      size,
      received: row.state === "stored" ? size : await this.store.stagedLength(row.uploadId),
    };
  }

  /** The bytes this account holds, stored or being uploaded. */
  async usedBytes(userId: string): Promise<number> {
    const sum = await this.prisma.blob.aggregate({ where: { userId }, _sum: { size: true } });
    return Number(sum._sum.size ?? 0n);
  }

  /**
   * Stores one chunk of `sha256` at `offset`, for a blob of `size` bytes. The first chunk
   * registers the upload, after the size and quota checks; a refused request stores nothing.
   */
  async writeChunk(input: {
    userId: string;
    deviceId: string;
    sha256: string;
    size: number;
    offset: number;
    body: Readable;
    declaredLength: number | null;
  }): Promise<UploadStatus> {
    const { userId, sha256, size, offset } = input;
    const { maxBytes, quotaBytes, chunkMaxBytes } = this.settings;
    if (size > maxBytes) {
      throw new BlobError(
        "blob_too_large",
        `the blob is ${size} bytes, over the ${maxBytes}-byte limit of one blob`,
        { limit: maxBytes, actual: size },
      );
    }
    let row = await this.prisma.blob.findUnique({ where: { userId_sha256: { userId, sha256 } } });
    if (row?.state === "stored")
      return { sha256, state: "stored", size: Number(row.size), received: Number(row.size) };
    if (!row) {
      if (offset !== 0) {
        throw new BlobError("offset_mismatch", "no upload of this blob yet: start at offset 0", {
          received: 0,
        });
      }
      row = await this.prisma.$transaction(async (tx) => {
        // Under the account's lock, so two uploads starting at once cannot both fit the quota.
        await tx.$executeRawUnsafe(USER_LOCK_STATEMENT, userId);
        const existing = await tx.blob.findUnique({ where: { userId_sha256: { userId, sha256 } } });
        if (existing) return existing;
        const sum = await tx.blob.aggregate({ where: { userId }, _sum: { size: true } });
        const used = Number(sum._sum.size ?? 0n);
        if (used + size > quotaBytes) {
          throw new BlobError(
            "quota_exceeded",
            `this account holds ${used} bytes of blobs; ${size} more would pass its quota of ${quotaBytes}`,
            { quota: quotaBytes, used, requested: size },
          );
        }
        return tx.blob.create({
          data: {
            userId,
            sha256,
            size: BigInt(size),
            uploadId: randomUUID(),
            deviceId: input.deviceId,
          },
        });
      });
    }
    if (row.state === "stored")
      return { sha256, state: "stored", size: Number(row.size), received: Number(row.size) };
    if (Number(row.size) !== size) {
      throw new BlobError(
        "size_mismatch",
        `this blob's upload was started with size ${row.size}; a blob's size cannot change`,
        { size: Number(row.size) },
      );
    }
    const uploadId = row.uploadId;
    if (this.writing.has(uploadId)) {
      throw new BlobError("upload_busy", "another request is writing this upload; retry shortly", {
        received: await this.store.stagedLength(uploadId),
      });
    }
    this.writing.add(uploadId);
    try {
      const received = await this.store.stagedLength(uploadId);
      if (offset !== received) {
        throw new BlobError(
          "offset_mismatch",
          `the server holds ${received} bytes of this blob: send from offset ${received}`,
          { received },
        );
      }
      const room = Math.min(chunkMaxBytes, size - offset);
      if (input.declaredLength !== null && input.declaredLength > room) {
        throw new BlobError(
          "chunk_too_large",
          `a chunk here may carry at most ${room} bytes (the chunk limit, or what is left of the blob)`,
          { limit: room, actual: input.declaredLength },
        );
      }
      try {
        const after = await this.store.writeChunk(uploadId, offset, input.body, room);
        return { sha256, state: "uploading", size, received: after };
      } catch (error) {
        if (error instanceof ChunkTooLargeError) {
          throw new BlobError(
            "chunk_too_large",
            `a chunk here may carry at most ${room} bytes (the chunk limit, or what is left of the blob)`,
            { limit: room },
          );
        }
        throw error;
      }
    } finally {
      this.writing.delete(uploadId);
    }
  }

  /**
   * Checks the uploaded bytes hash to `sha256` and stores the blob under it. A mismatch drops
   * the upload (nothing is kept). Confirming a stored blob again marks it recently used, which
   * keeps it from garbage collection for the grace period: a device about to push an op that
   * references a blob it uploaded long ago confirms it first.
   */
  async confirm(userId: string, sha256: string): Promise<UploadStatus> {
    const row = await this.prisma.blob.findUnique({ where: { userId_sha256: { userId, sha256 } } });
    if (!row) throw new BlobError("not_found", "no upload of this blob: upload it first");
    const size = Number(row.size);
    if (row.state === "stored") {
      await this.prisma.blob.update({
        where: { userId_sha256: { userId, sha256 } },
        data: { touchedAt: new Date() },
      });
      return { sha256, state: "stored", size, received: size };
    }
    const received = await this.store.stagedLength(row.uploadId);
    if (received !== size) {
      throw new BlobError("incomplete", `the server holds ${received} of ${size} bytes`, {
        received,
        size,
      });
    }
    const actual = await this.store.hashStaged(row.uploadId);
    if (actual !== sha256) {
      await this.store.discard(row.uploadId);
      await this.prisma.blob.delete({ where: { userId_sha256: { userId, sha256 } } });
      throw new BlobError(
        "hash_mismatch",
        "the uploaded bytes do not hash to the blob's name; the upload was dropped",
        { expected: sha256, actual },
      );
    }
    await this.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(BLOB_LOCK_STATEMENT, sha256);
      await this.store.commit(row.uploadId, sha256);
      const now = new Date();
      await tx.blob.update({
        where: { userId_sha256: { userId, sha256 } },
        data: { state: "stored", storedAt: now, touchedAt: now },
      });
    });
    return { sha256, state: "stored", size, received: size };
  }

  /** A stored blob of this account, or null (also for another account's blob). */
  async open(userId: string, sha256: string): Promise<{ size: number; stream: Readable } | null> {
    const row = await this.prisma.blob.findUnique({ where: { userId_sha256: { userId, sha256 } } });
    if (row?.state !== "stored") return null;
    return this.store.open(sha256);
  }
}
