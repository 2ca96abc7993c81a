"use client";

import { useFormatter, useLocale, useTranslations } from "next-intl";
import { platformName } from "@/components/desktop-login/platform";
import { formatDuration } from "@/lib/format-duration";
import { formatDateTime, formatRelative } from "@/lib/format-time";
import styles from "./console.module.css";
import { effectiveCursor, staleCountdown } from "./device-state";
import type { DeviceRow } from "./types";

const DASH = "—";

export function DeviceRowView({
  device,
  fetchedAt,
  now,
  onSelectUser,
  onExplain,
}: {
  device: DeviceRow;
  fetchedAt: number;
  now: number;
  onSelectUser: (userId: string) => void;
  onExplain: (deviceId: string) => void;
}) {
  const t = useTranslations("Console.devices");
  const diagnosis = useTranslations("Diagnosis");
  const select = useTranslations("Console.users");
  const format = useFormatter();
  const locale = useLocale();
  const countdown = staleCountdown(device, fetchedAt, now);
  const stale = !countdown.revoked && countdown.stale;
  const connection = device.revokedAt ? "revoked" : device.online ? "online" : "offline";
  return (
    <tr
      data-testid="console-device"
      data-device-id={device.id}
      data-user-id={device.userId}
      data-cursor={effectiveCursor(device)}
      data-stored-cursor={device.storedCursor ?? ""}
      data-buffered-cursor={device.bufferedCursor ?? ""}
      data-lag-ops={device.lagOps}
      data-online={device.online}
      data-stale={stale}
      className={stale ? styles.staleRow : undefined}
    >
      <td>
        <button
          type="button"
          className={`${styles.rowButton} ${styles.truncate}`}
          onClick={() => onSelectUser(device.userId)}
          aria-label={select("select", { email: device.email })}
          title={device.email}
        >
          <span className="ltr-value">{device.email}</span>
        </button>
      </td>
      <td>
        <span
          className={`${styles.strong} ${styles.block} ${styles.wrapName}`}
          data-testid="console-device-name"
        >
          {device.name}
        </span>
        <span className={styles.subline}>
          <span className="ltr-value" data-testid="console-device-platform">
            {platformName(device.platform)}
          </span>
          {" · "}
          <span className="ltr-value" data-testid="console-device-version">
            {device.appVersion}
          </span>
        </span>
        <button
          type="button"
          className={`button button--ghost button--small ${styles.block}`}
          onClick={() => onExplain(device.id)}
          title={diagnosis("explainLabel", { name: device.name })}
          data-testid="console-device-explain"
        >
          {diagnosis("explain")}
          <span className="visually-hidden"> {device.name}</span>
        </button>
      </td>
      <td>
        <span className={styles.pill} data-tone={connection}>
          {t(connection)}
        </span>
      </td>
      <td title={formatDateTime(new Date(device.lastSeenAt), locale)}>
        {formatRelative(new Date(device.lastSeenAt), new Date(now), locale)}
      </td>
      <td className={styles.num}>
        <span className={styles.block} data-testid="console-device-stored-cursor">
          {device.storedCursor === null ? DASH : format.number(device.storedCursor)}
        </span>
        <span className={styles.subline} data-testid="console-device-buffered-cursor">
          {device.bufferedCursor === null ? (
            DASH
          ) : (
            <span className={styles.buffered} title={t("bufferedHint")}>
              {format.number(device.bufferedCursor)}
            </span>
          )}
        </span>
      </td>
      <td className={styles.num}>
        <span className={styles.block} data-testid="console-device-lag-ops">
          {device.lagOps === 0 ? (
            <span className={styles.caughtUp} title={t("upToDate")}>
              <span aria-hidden="true">✓</span>
              <span className="visually-hidden">{t("upToDate")}</span>
            </span>
          ) : (
            format.number(device.lagOps)
          )}
        </span>
        <span className={styles.subline}>
          {device.lagOps === 0 ? DASH : formatDuration(device.lagMs, locale)}
        </span>
      </td>
      <td data-testid="console-device-stale">
        {countdown.revoked ? (
          DASH
        ) : countdown.stale ? (
          <span className={styles.pill} data-tone="stale">
            {t("staleFor", { duration: formatDuration(countdown.remainingMs, locale) })}
          </span>
        ) : (
          <span className={styles.countdown}>{formatDuration(countdown.remainingMs, locale)}</span>
        )}
      </td>
      <td>
        <span className={styles.block}>
          {format.dateTime(new Date(device.boundAt), { dateStyle: "medium" })}
        </span>
        <span className={styles.subline} data-testid="console-device-revoked-at">
          {device.revokedAt
            ? format.dateTime(new Date(device.revokedAt), { dateStyle: "medium" })
            : DASH}
        </span>
      </td>
    </tr>
  );
}
