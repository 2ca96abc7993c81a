"use client";

import type { Diagnosis, Verdict } from "@chorus/api";
import { useFormatter, useLocale, useTranslations } from "next-intl";
import { formatBytes, formatDuration } from "@/lib/format-duration";
import { formatDateTime } from "@/lib/format-time";
import styles from "./Diagnosis.module.css";

/** One verdict as a sentence in the reader's language (the CLI says the same in English). */
export function useVerdictText(): (verdict: Verdict) => string {
  const t = useTranslations("Diagnosis.verdict");
  const locale = useLocale();
  const duration = (ms: number) => formatDuration(ms, locale, 1);
  const time = (iso: string) => formatDateTime(new Date(iso), locale);
  return (v) => {
    switch (v.code) {
      case "revoked":
        return t("revoked", { time: time(v.revokedAt) });
      case "audit_mismatch": {
        const d = v.difference;
        const where = d
          ? `${d.entity} ${d.entityId}${d.field === null ? "" : ` · ${d.field}`}`
          : null;
        return where
          ? t("audit_mismatch", {
              time: time(v.auditedAt),
              cursor: v.cursor,
              where,
              device: d?.device?.value ?? "—",
              server: d?.server?.value ?? "—",
            })
          : t("audit_mismatch_unnamed", { time: time(v.auditedAt), cursor: v.cursor });
      }
      case "never_connected":
        return t("never_connected");
      case "below_watermark":
        return t("below_watermark", {
          cursor: v.cursor,
          watermark: v.watermark,
          ops: v.resyncOps,
          size: formatBytes(v.resyncBytes, locale),
        });
      case "queue_stuck":
        return v.refused > 0
          ? t("queue_stuck_refused", {
              refused: v.refused,
              reason: v.reason ?? "—",
              waiting: v.waiting,
            })
          : t("queue_stuck_failing", {
              code: v.errorCode ?? "—",
              waiting: v.waiting,
              duration: duration(v.oldestPendingAgeMs ?? 0),
            });
      case "not_acknowledging":
        return v.sinceAckMs === null
          ? t("not_acknowledging_never", { ops: v.opsBehind })
          : t("not_acknowledging", { duration: duration(v.sinceAckMs), ops: v.opsBehind });
      case "offline":
        if (v.resync === "next_compaction" && v.nextCompactionAt) {
          return t("offline_resync_next", {
            duration: duration(v.offlineMs),
            time: time(v.nextCompactionAt),
          });
        }
        if (v.resync === "any_compaction") {
          return t("offline_resync_any", { duration: duration(v.offlineMs) });
        }
        return v.staleInMs >= 0
          ? t("offline_stale_in", {
              duration: duration(v.offlineMs),
              remaining: duration(v.staleInMs),
            })
          : t("offline_stale_for", {
              duration: duration(v.offlineMs),
              remaining: duration(v.staleInMs),
            });
      case "clock_skewed":
        return v.skewMs > 0
          ? t("clock_ahead", { duration: duration(v.skewMs) })
          : t("clock_behind", { duration: duration(v.skewMs) });
      case "catching_up":
        return t("catching_up", { ops: v.opsBehind });
      case "uploading":
        return t("uploading", { count: v.waiting });
      case "in_sync":
        return t("in_sync");
    }
  };
}

/**
 * The verdicts, the headline first, each marked with its severity. With `runbookHref` (the
 * console), each verdict that names its runbook section links to it ("What to do").
 */
export function VerdictList({
  verdicts,
  testId,
  runbookHref,
}: {
  verdicts: Array<Verdict & { runbook?: string }>;
  testId: string;
  runbookHref?: (anchor: string) => string;
}) {
  const t = useTranslations("Diagnosis");
  const text = useVerdictText();
  if (verdicts.length === 0) {
    return (
      <p className={styles.muted} data-testid={testId}>
        {t("noVerdict")}
      </p>
    );
  }
  return (
    <ul className={styles.verdicts} data-testid={testId}>
      {verdicts.map((verdict) => (
        <li
          key={verdict.code}
          className={styles.verdict}
          data-severity={verdict.severity}
          data-code={verdict.code}
          data-testid="verdict"
        >
          {text(verdict)}
          {runbookHref && verdict.runbook ? (
            <>
              {" "}
              <a
                href={runbookHref(verdict.runbook)}
                className={styles.runbook}
                data-testid="verdict-runbook"
              >
                {t("runbook")}
              </a>
            </>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

/** What the verdicts come from: cursor, newest op, watermark, socket, the device's report. */
export function DiagnosisFacts({ diagnosis: d }: { diagnosis: Diagnosis }) {
  const t = useTranslations("Diagnosis.facts");
  const format = useFormatter();
  const locale = useLocale();
  const time = (iso: string) => formatDateTime(new Date(iso), locale);
  const n = (value: number | null) => (value === null ? "—" : format.number(value));
  const report = d.telemetry;
  return (
    <dl className={styles.facts} data-testid="diagnosis-facts">
      <dt>{t("cursor")}</dt>
      <dd>
        {n(d.cursor.stored)} / {n(d.cursor.buffered)}
      </dd>
      <dt>{t("newestOp")}</dt>
      <dd>{d.newestOp ? `${format.number(d.newestOp.id)} · ${time(d.newestOp.at)}` : "—"}</dd>
      <dt>{t("watermark")}</dt>
      <dd>{format.number(d.watermark)}</dd>
      <dt>{t("socket")}</dt>
      <dd data-testid="diagnosis-socket">
        {d.socket.online && d.socket.replica && d.socket.connectedAt
          ? t("socketOnline", { replica: d.socket.replica, time: time(d.socket.connectedAt) })
          : d.socket.replica
            ? t("socketClosed", {
                replica: d.socket.replica,
                time: time(d.socket.closedAt ?? d.socket.connectedAt ?? d.checkedAt),
              })
            : t("socketNever")}
      </dd>
      <dt>{t("lastAck")}</dt>
      <dd>{d.lastAckAt ? time(d.lastAckAt) : t("none")}</dd>
      <dt>{t("report")}</dt>
      <dd>
        {report
          ? t("reportValue", {
              time: time(report.receivedAt),
              queue: format.number(report.queueDepth),
              quarantined: format.number(report.quarantinedCount),
              version: report.appVersion,
            })
          : t("none")}
      </dd>
      <dt>{t("lastError")}</dt>
      <dd>
        {report?.lastError ? (
          <span className="ltr-value">
            {report.lastError.code}: {report.lastError.message}
          </span>
        ) : (
          t("none")
        )}
      </dd>
    </dl>
  );
}
