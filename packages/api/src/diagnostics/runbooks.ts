import type { VerdictCode } from "./explain.js";

/**
 * Where each verdict's runbook is: the anchor of its section in docs/runbooks/devices.md (what the
 * admin does next). The console links every verdict there; a test fails when a section is
 * missing from the page.
 */
export const RUNBOOK_ANCHORS = {
  revoked: "revoked",
  audit_mismatch: "convergence-audit-mismatch",
  below_watermark: "below-the-watermark",
  queue_stuck: "queue-stuck",
  not_acknowledging: "not-acknowledging",
  offline: "offline",
  never_connected: "never-connected",
  clock_skewed: "clock-skewed",
  catching_up: "catching-up",
  uploading: "uploading",
  in_sync: "in-sync",
} as const satisfies Record<VerdictCode, string>;

/** The convergence audit's section (a mismatch, or "not comparable"). */
export const CONVERGENCE_RUNBOOK_ANCHOR = "convergence-audit-mismatch";
