-- Each replica's throughput over time: how many ops it stored from pushes and how many it
-- delivered to subscribers during one interval ending at "at". Written by every replica once
-- per sampling interval (a minute by default); rows older than a day are merged into one row
-- per replica and hour (interval_ms 3,600,000), and rows older than 30 days are deleted.
CREATE TABLE "throughput_sample" (
    "id" BIGSERIAL NOT NULL,
    "replica" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "interval_ms" INTEGER NOT NULL,
    "ops_pushed" BIGINT NOT NULL,
    "ops_delivered" BIGINT NOT NULL,

    CONSTRAINT "throughput_sample_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "throughput_sample_interval_check" CHECK ("interval_ms" > 0),
    CONSTRAINT "throughput_sample_counts_check" CHECK ("ops_pushed" >= 0 AND "ops_delivered" >= 0)
);

CREATE INDEX "throughput_sample_at_idx" ON "throughput_sample"("at");
CREATE INDEX "throughput_sample_replica_at_idx" ON "throughput_sample"("replica", "at");
