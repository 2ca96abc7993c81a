-- The latest telemetry each device reported (with a push or over its socket), and the clock
-- skew the server measured when it arrived. One row per device, overwritten by each report.
CREATE TABLE "device_telemetry" (
    "device_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL,
    "device_clock" TIMESTAMPTZ(3) NOT NULL,
    "clock_skew_ms" BIGINT NOT NULL,
    "queue_depth" INTEGER NOT NULL,
    "oldest_pending_age_ms" BIGINT,
    "last_error" JSONB,
    "quarantined_count" INTEGER NOT NULL,
    "quarantined" JSONB NOT NULL,
    "device_cursor" BIGINT NOT NULL,
    "app_version" TEXT NOT NULL,
    "protocol_version" INTEGER NOT NULL,
    "source" TEXT NOT NULL,
    "replica" TEXT NOT NULL,

    CONSTRAINT "device_telemetry_pkey" PRIMARY KEY ("device_id"),
    CONSTRAINT "device_telemetry_source_check" CHECK ("source" IN ('push', 'report'))
);

ALTER TABLE "device_telemetry" ADD CONSTRAINT "device_telemetry_device_id_fkey"
    FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "device_telemetry" ADD CONSTRAINT "device_telemetry_user_id_fkey"
    FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The device's newest WebSocket: which replica holds it and since when (closed_at set when it
-- closed). Presence says whether a socket is open anywhere now; this says where and how long.
CREATE TABLE "device_socket" (
    "device_id" UUID NOT NULL,
    "replica" TEXT NOT NULL,
    "connected_at" TIMESTAMPTZ(3) NOT NULL,
    "closed_at" TIMESTAMPTZ(3),

    CONSTRAINT "device_socket_pkey" PRIMARY KEY ("device_id")
);

ALTER TABLE "device_socket" ADD CONSTRAINT "device_socket_device_id_fkey"
    FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;
