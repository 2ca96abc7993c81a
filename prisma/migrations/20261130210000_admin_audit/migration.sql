-- What administrators did: who ran which compaction, for whom, with what preview; who revoked
-- which device. Kept when the actor's or the target's account is deleted (ids stay as text).
CREATE TABLE "admin_audit" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_id" UUID NOT NULL,
    "actor_email" TEXT,
    "action" TEXT NOT NULL,
    "target_user_id" UUID,
    "target_device_id" UUID,
    "details" JSONB NOT NULL,

    CONSTRAINT "admin_audit_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "admin_audit_action_check" CHECK ("action" IN ('compaction_run', 'device_revoked'))
);

CREATE INDEX "admin_audit_at_idx" ON "admin_audit"("at" DESC);
