-- Each device's lag over time, sampled when its telemetry is written (at most one sample per
-- device per sampling interval): the position the server knows for it (its stored ACK or its
-- reported cursor, whichever is further), how many of its user's ops lie beyond it, and how
-- old the oldest of those is. Bounded per device by count and by age.
CREATE TABLE "device_lag_sample" (
    "id" BIGSERIAL NOT NULL,
    "device_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "cursor" BIGINT NOT NULL,
    "ops_behind" INTEGER NOT NULL,
    "cursor_age_ms" BIGINT NOT NULL,

    CONSTRAINT "device_lag_sample_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "device_lag_sample_device_idx" ON "device_lag_sample"("device_id", "at" DESC);

ALTER TABLE "device_lag_sample" ADD CONSTRAINT "device_lag_sample_device_id_fkey"
    FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "device_lag_sample" ADD CONSTRAINT "device_lag_sample_user_id_fkey"
    FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
