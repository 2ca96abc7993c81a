import { type PrismaClient, USER_LOCK_STATEMENT } from "@chorus/db";
import { BLOB_REFS_KEY } from "@chorus/protocol";
import { BLOB_LOCK_STATEMENT, type BlobSettings } from "./service.js";
import type { BlobStore } from "./store.js";

export interface BlobGcResult {
  runId: string;
  outcome: "succeeded" | "failed";
  usersProcessed: number;
  blobsDeleted: number;
  uploadsExpired: number;
  bytesFreed: number;
  error: string | null;
}

/** Every blob hash the user's surviving ops reference (`"$blobs": [...]` anywhere in a value). */
const REFERENCED = `
  SELECT DISTINCT r.sha
    FROM sync_op o,
         LATERAL jsonb_path_query(o.value, 'strict $.**."${BLOB_REFS_KEY}"', '{}', true) AS refs(list),
         LATERAL jsonb_array_elements_text(
           CASE WHEN jsonb_typeof(refs.list) = 'array' THEN refs.list ELSE '[]'::jsonb END) AS r(sha)
   WHERE o.user_id = $1::uuid AND o.value IS NOT NULL`;

/**
 * Blob garbage collection, recorded in blob_gc_run like a compaction run. Per account, under
 * the account's push lock (so no op referencing a blob commits between reading the references
 * and deleting): stored blobs no surviving op references and not confirmed within the grace
 * period lose their row; a blob file goes when no account holds the hash any more (stored or
 * uploading), decided under the blob's lock that confirm also takes. Uploads never confirmed
 * past their expiry are dropped. Run it after compaction, which is what removes references.
 */
export async function runBlobGc(
  deps: { prisma: PrismaClient; store: BlobStore; settings: BlobSettings },
  options: { trigger: "scheduled" | "manual"; now?: Date },
): Promise<BlobGcResult> {
  const { prisma, store, settings } = deps;
  const now = options.now ?? new Date();
  const run = await prisma.blobGcRun.create({ data: { trigger: options.trigger } });
  const result: BlobGcResult = {
    runId: run.id.toString(),
    outcome: "succeeded",
    usersProcessed: 0,
    blobsDeleted: 0,
    uploadsExpired: 0,
    bytesFreed: 0,
    error: null,
  };
  const dropFileIfUnheld = async (sha256: string, size: number) => {
    await prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(BLOB_LOCK_STATEMENT, sha256);
      if ((await tx.blob.count({ where: { sha256 } })) > 0) return;
      await store.delete(sha256);
      result.bytesFreed += size;
    });
  };
  try {
    const expired = await prisma.blob.findMany({
      where: {
        state: "uploading",
        createdAt: { lt: new Date(now.getTime() - settings.uploadExpiryMs) },
      },
    });
    for (const upload of expired) {
      const gone = await prisma.blob.deleteMany({
        where: {
          userId: upload.userId,
          sha256: upload.sha256,
          uploadId: upload.uploadId,
          state: "uploading",
        },
      });
      if (gone.count === 0) continue;
      await store.discard(upload.uploadId);
      result.uploadsExpired += 1;
    }

    const cutoff = new Date(now.getTime() - settings.gcGraceMs);
    const users = await prisma.blob.findMany({
      where: { state: "stored", touchedAt: { lt: cutoff } },
      distinct: ["userId"],
      select: { userId: true },
    });
    for (const { userId } of users) {
      const deleted = await prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(USER_LOCK_STATEMENT, userId);
        return tx.$queryRawUnsafe<{ sha256: string; size: bigint }[]>(
          `DELETE FROM blobs
            WHERE user_id = $1::uuid AND state = 'stored' AND touched_at < $2
              AND sha256 NOT IN (${REFERENCED})
          RETURNING sha256, size`,
          userId,
          cutoff,
        );
      });
      result.usersProcessed += 1;
      result.blobsDeleted += deleted.length;
      for (const blob of deleted) await dropFileIfUnheld(blob.sha256, Number(blob.size));
      await prisma.blobGcRun.update({
        where: { id: run.id },
        data: {
          usersProcessed: result.usersProcessed,
          blobsDeleted: result.blobsDeleted,
          bytesFreed: BigInt(result.bytesFreed),
        },
      });
    }
  } catch (error) {
    result.outcome = "failed";
    result.error = (error as Error).message;
  }
  await prisma.blobGcRun.update({
    where: { id: run.id },
    data: {
      outcome: result.outcome,
      finishedAt: new Date(),
      usersProcessed: result.usersProcessed,
      blobsDeleted: result.blobsDeleted,
      uploadsExpired: result.uploadsExpired,
      bytesFreed: BigInt(result.bytesFreed),
      error: result.error,
    },
  });
  return result;
}
