"use client";

import { useQuery } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { formatBytes } from "@/lib/format-duration";
import { useTRPC } from "@/lib/trpc";
import styles from "./console.module.css";

/**
 * Compaction's what-if, shown in the "run now" confirmation: the devices the run would push
 * below their watermark (forced into a full resync), with what each would download.
 */
export function WhatIfList({ userId }: { userId?: string }) {
  const t = useTranslations("Diagnosis.whatIf");
  const locale = useLocale();
  const trpc = useTRPC();
  const whatIf = useQuery(trpc.admin.compactionWhatIf.queryOptions(userId ? { userId } : {}));
  if (!whatIf.data) return null;
  const { devices } = whatIf.data;
  if (devices.length === 0) {
    return (
      <p className={styles.muted} data-testid="compaction-what-if" data-count="0">
        {t("none")}
      </p>
    );
  }
  return (
    <div data-testid="compaction-what-if" data-count={devices.length}>
      <p>{t("title")}</p>
      <ul>
        {devices.map((device) => (
          <li key={device.deviceId} data-device-id={device.deviceId} data-testid="what-if-device">
            {t("item", {
              name: device.name,
              email: device.email,
              ops: device.resyncOps,
              size: formatBytes(device.resyncBytes, locale),
            })}
          </li>
        ))}
      </ul>
    </div>
  );
}
