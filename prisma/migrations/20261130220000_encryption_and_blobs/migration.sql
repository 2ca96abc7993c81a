-- End-to-end encryption and attachments: each account's wrapped master key (the server never
-- holds it unwrapped), the account's blobs (content-addressed, uploaded in chunks), and the
-- record of blob garbage-collection runs.

-- CreateEnum
CREATE TYPE "BlobState" AS ENUM ('uploading', 'stored');

-- CreateTable
CREATE TABLE "account_keys" (
    "user_id" UUID NOT NULL,
    "epoch" INTEGER NOT NULL,
    "version" INTEGER NOT NULL,
    "wrapped" JSONB NOT NULL,
    "set_by_device_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "account_keys_pkey" PRIMARY KEY ("user_id")
);

-- CreateTable
CREATE TABLE "blobs" (
    "user_id" UUID NOT NULL,
    "sha256" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "state" "BlobState" NOT NULL DEFAULT 'uploading',
    "upload_id" UUID NOT NULL,
    "device_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "stored_at" TIMESTAMPTZ(3),
    "touched_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "blobs_pkey" PRIMARY KEY ("user_id", "sha256")
);

-- CreateTable
CREATE TABLE "blob_gc_run" (
    "id" BIGSERIAL NOT NULL,
    "trigger" "CompactionTrigger" NOT NULL,
    "outcome" "CompactionOutcome" NOT NULL DEFAULT 'running',
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "users_processed" INTEGER NOT NULL DEFAULT 0,
    "blobs_deleted" INTEGER NOT NULL DEFAULT 0,
    "uploads_expired" INTEGER NOT NULL DEFAULT 0,
    "bytes_freed" BIGINT NOT NULL DEFAULT 0,
    "error" TEXT,

    CONSTRAINT "blob_gc_run_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "blobs_upload_id_key" ON "blobs"("upload_id");

-- CreateIndex
CREATE INDEX "blobs_sha256_idx" ON "blobs"("sha256");

-- CreateIndex
CREATE INDEX "blob_gc_run_started_at_idx" ON "blob_gc_run"("started_at");

-- AddForeignKey
ALTER TABLE "account_keys" ADD CONSTRAINT "account_keys_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "blobs" ADD CONSTRAINT "blobs_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
