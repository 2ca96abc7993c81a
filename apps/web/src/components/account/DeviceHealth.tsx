"use client";

import { useQuery } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { DiagnosisFacts, VerdictList } from "@/components/diagnosis/Diagnosis";
import { formatRelative } from "@/lib/format-time";
import { useTRPC } from "@/lib/trpc";
import styles from "./account.module.css";

/**
 * One of my devices as the sync server sees it: the plain-language status (the same verdicts as
 * the admin console), how far behind it is, what waits on it to upload, its clock, its version.
 * Nothing is shown while it loads or when the sync server cannot be asked: the card above
 * already says what the account knows.
 */
export function DeviceHealth({ deviceId }: { deviceId: string }) {
  const t = useTranslations("Diagnosis.health");
  const locale = useLocale();
  const trpc = useTRPC();
  const query = useQuery(trpc.diagnostics.explainMine.queryOptions({ deviceId }));
  const d = query.data;
  if (!d) return null;
  const report = d.telemetry;
  return (
    <div className={styles.deviceHealth} data-testid="device-health">
      <VerdictList verdicts={d.verdicts} testId="device-verdicts" />
      <ul className={styles.healthFacts}>
        <li data-testid="device-lag" data-lag-ops={d.lag.ops}>
          {t("lag", { ops: d.lag.ops })}
        </li>
        {report ? (
          <li data-testid="device-pending" data-pending={report.queueDepth}>
            {t("pending", { count: report.queueDepth })}
          </li>
        ) : null}
        {d.lastAckAt ? (
          <li data-testid="device-last-sync">
            {t("lastSync", { time: formatRelative(new Date(d.lastAckAt), new Date(), locale) })}
          </li>
        ) : null}
      </ul>
      <details>
        <summary>{t("details", { version: d.appVersion })}</summary>
        <DiagnosisFacts diagnosis={d} />
      </details>
    </div>
  );
}
