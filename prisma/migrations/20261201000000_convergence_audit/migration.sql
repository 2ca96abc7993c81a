-- Convergence audits: a device's digest of its synced state at its cursor, compared with the
-- server's digest of the log at the same position; the first differing entity when they differ.
-- The newest audits of each device are kept (older ones are pruned as new ones arrive).
CREATE TABLE "device_convergence_audit" (
    "id" BIGSERIAL NOT NULL,
    "device_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "trigger" TEXT NOT NULL,
    "cursor" BIGINT NOT NULL,
    "own_up_to" BIGINT,
    "pending_ops" INTEGER NOT NULL,
    "device_hash" TEXT NOT NULL,
    "device_rows" INTEGER NOT NULL,
    "server_hash" TEXT,
    "server_rows" INTEGER,
    "outcome" TEXT NOT NULL,
    "reason" TEXT,
    "differing_buckets" INTEGER[] NOT NULL DEFAULT '{}',
    "first_difference" JSONB,

    CONSTRAINT "device_convergence_audit_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "device_convergence_audit_trigger_check"
        CHECK ("trigger" IN ('on_demand', 'resync', 'requested')),
    CONSTRAINT "device_convergence_audit_outcome_check"
        CHECK ("outcome" IN ('match', 'mismatch', 'not_comparable'))
);

CREATE INDEX "device_convergence_audit_device_idx" ON "device_convergence_audit"("device_id", "id" DESC);

ALTER TABLE "device_convergence_audit" ADD CONSTRAINT "device_convergence_audit_device_id_fkey"
    FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "device_convergence_audit" ADD CONSTRAINT "device_convergence_audit_user_id_fkey"
    FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- An administrator asked a device to audit itself; the device learns it from the answer to its
-- next telemetry report, and the request is cleared when its audit arrives.
CREATE TABLE "device_audit_request" (
    "device_id" UUID NOT NULL,
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "requested_by" UUID,

    CONSTRAINT "device_audit_request_pkey" PRIMARY KEY ("device_id")
);

ALTER TABLE "device_audit_request" ADD CONSTRAINT "device_audit_request_device_id_fkey"
    FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;
