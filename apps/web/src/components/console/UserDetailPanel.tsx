"use client";

import { useQuery } from "@tanstack/react-query";
import { useFormatter, useLocale, useTranslations } from "next-intl";
import { useEffect, useSyncExternalStore } from "react";
import { Panel } from "@/components/ui/Panel";
import { formatBytes, formatDuration } from "@/lib/format-duration";
import { formatDateTime, formatRelative } from "@/lib/format-time";
import { useTRPC } from "@/lib/trpc";
import { CompactionControl } from "./CompactionControl";
import styles from "./console.module.css";
import { effectiveCursor, staleCountdown } from "./device-state";
import { useNow } from "./hooks";
import { LagChart } from "./LagChart";
import type { LagHistory } from "./lag-history";
import { QueryState } from "./QueryProblem";
import { RecentOps } from "./RecentOps";
import type { CompactionProgress } from "./types";

interface DetailProps {
  userId: string | null;
  onClose: () => void;
  progress: CompactionProgress | null;
  history: LagHistory;
  signInHref: string;
}

/** One user's compaction state: watermark, schedule, a dry-run preview, run now, lag. */
export function UserDetailPanel(props: DetailProps) {
  const t = useTranslations("Console.detail");
  if (!props.userId) {
    return (
      <Panel title={t("title")} testId="user-detail">
        <div className={styles.placeholder}>
          <p className={styles.placeholderTitle}>{t("emptyTitle")}</p>
          <p>{t("emptyBody")}</p>
        </div>
      </Panel>
    );
  }
  return <UserDetail key={props.userId} {...props} userId={props.userId} />;
}

function UserDetail({
  userId,
  onClose,
  progress,
  history,
  signInHref,
}: DetailProps & { userId: string }) {
  const t = useTranslations("Console.detail");
  const deviceText = useTranslations("Console.devices");
  const format = useFormatter();
  const locale = useLocale();
  const trpc = useTRPC();
  const now = useNow();
  const detail = useQuery(trpc.admin.user.queryOptions({ userId }));
  const devices = useQuery(
    trpc.admin.devices.queryOptions({ userId, pageSize: 200, sort: "name", direction: "asc" }),
  );
  useSyncExternalStore(history.subscribe, history.getVersion, history.getVersion);

  const { data: deviceRows, dataUpdatedAt } = devices;
  useEffect(() => {
    if (deviceRows) history.record(deviceRows.rows, dataUpdatedAt);
  }, [deviceRows, dataUpdatedAt, history]);

  const closeButton = (
    <button
      type="button"
      className={`button button--small button--ghost ${styles.iconButton}`}
      onClick={onClose}
      aria-label={t("close")}
      title={t("close")}
    >
      <svg viewBox="0 0 20 20" aria-hidden="true">
        <path d="M5 5l10 10M15 5L5 15" />
      </svg>
    </button>
  );

  type UserData = NonNullable<typeof detail.data>;
  const render = (user: UserData) => {
    const needsResync = new Set(user.preview.devicesNeedingResync.map((d) => d.deviceId));
    const rows = deviceRows?.rows ?? [];
    return (
      <>
        <dl className={styles.facts}>
          <div>
            <dt>{t("watermark")}</dt>
            <dd className={styles.big} data-testid="user-watermark" data-value={user.watermark}>
              {format.number(user.watermark)}
            </dd>
          </div>
          <div>
            <dt>{t("lastCompacted")}</dt>
            <dd
              data-testid="user-last-compacted"
              title={
                user.lastCompactedAt
                  ? formatDateTime(new Date(user.lastCompactedAt), locale)
                  : undefined
              }
            >
              {user.lastCompactedAt
                ? formatRelative(new Date(user.lastCompactedAt), new Date(now), locale)
                : t("never")}
            </dd>
          </div>
          <div>
            <dt>{t("nextCompaction")}</dt>
            <dd>
              {user.nextCompactionAt
                ? formatDateTime(new Date(user.nextCompactionAt), locale)
                : t("notScheduled")}
            </dd>
          </div>
          <div>
            <dt>{t("staleWindow")}</dt>
            <dd>{formatDuration(user.staleWindowMs, locale)}</dd>
          </div>
        </dl>

        <div className={styles.preview} data-testid="compaction-preview">
          <h3>{t("previewTitle")}</h3>
          <dl className={styles.previewStats}>
            <div>
              <dt>{t("target")}</dt>
              <dd data-testid="preview-target" data-value={user.preview.target}>
                {format.number(user.preview.target)}
              </dd>
            </div>
            <div>
              <dt>{t("opsToDelete")}</dt>
              <dd data-testid="preview-ops" data-value={user.preview.opsToDelete}>
                {format.number(user.preview.opsToDelete)}
              </dd>
            </div>
            <div>
              <dt>{t("bytesToFree")}</dt>
              <dd data-testid="preview-bytes" data-value={user.preview.bytesToFree}>
                {formatBytes(user.preview.bytesToFree, locale)}
              </dd>
            </div>
          </dl>
          <div className={styles.resync}>
            <p className={styles.label}>{t("resyncTitle")}</p>
            {user.preview.devicesNeedingResync.length === 0 ? (
              <p className={styles.muted} data-testid="preview-no-resync">
                {t("noResync")}
              </p>
            ) : (
              <ul className={styles.chips} data-testid="preview-resync">
                {user.preview.devicesNeedingResync.map((device) => (
                  <li key={device.deviceId} data-device-id={device.deviceId}>
                    {device.name}
                  </li>
                ))}
              </ul>
            )}
          </div>
          <CompactionControl
            userId={userId}
            progress={progress}
            label={t("run")}
            testId="user-compaction"
          />
        </div>

        <div className={styles.subsection}>
          <h3>{t("devicesTitle")}</h3>
          {rows.length === 0 ? (
            <p className={styles.muted} data-testid="user-detail-no-devices">
              {t("noDevices")}
            </p>
          ) : null}
          <ul className={styles.deviceList}>
            {rows.map((device) => {
              const countdown = staleCountdown(device, dataUpdatedAt, now);
              const stale = !countdown.revoked && countdown.stale;
              return (
                <li
                  key={device.id}
                  data-testid="detail-device"
                  data-device-id={device.id}
                  data-cursor={effectiveCursor(device)}
                  data-stale={stale}
                  data-needs-resync={needsResync.has(device.id)}
                >
                  <span
                    className={styles.dot}
                    data-tone={device.revokedAt ? "revoked" : device.online ? "online" : "offline"}
                    aria-hidden="true"
                  />
                  <span className={styles.strong}>{device.name}</span>
                  <span className={styles.muted}>
                    {t("cursor")} {format.number(effectiveCursor(device))}
                  </span>
                  {/* A revoked device will never catch up: it is not "behind". */}
                  <span
                    className={
                      device.lagOps === 0 && !device.revokedAt ? styles.caughtUp : styles.muted
                    }
                    data-testid="detail-device-lag"
                  >
                    {device.revokedAt
                      ? deviceText("revoked")
                      : device.lagOps === 0
                        ? deviceText("upToDate")
                        : t("behind", { count: device.lagOps })}
                  </span>
                  {stale ? (
                    <span className={styles.pill} data-tone="stale">
                      {deviceText("stale")}
                    </span>
                  ) : null}
                  {needsResync.has(device.id) ? (
                    <span className={styles.pill} data-tone="warning">
                      {t("needsResync")}
                    </span>
                  ) : null}
                </li>
              );
            })}
          </ul>
        </div>

        <LagChart series={history.of(rows.map((device) => device.id))} now={now} />
        <RecentOps userId={userId} />
      </>
    );
  };

  return (
    <Panel
      title={t("title")}
      subtitle={
        detail.data ? (
          <p className="ltr-value" data-testid="user-detail-email">
            {detail.data.email}
          </p>
        ) : null
      }
      actions={closeButton}
      testId="user-detail"
      data={{ "user-id": userId }}
    >
      <QueryState
        query={detail}
        signInHref={signInHref}
        isEmpty={(data) => data === null}
        empty={<p className={styles.empty}>{t("notFound")}</p>}
      >
        {(data) => (data === null ? null : render(data))}
      </QueryState>
    </Panel>
  );
}
