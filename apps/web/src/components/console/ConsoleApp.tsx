"use client";

import { useFormatter, useTranslations } from "next-intl";
import { useCallback, useEffect, useState } from "react";
import { AllDevicesPanel } from "./AllDevicesPanel";
import { AuditPanel } from "./AuditPanel";
import { CompactionRunsPanel } from "./CompactionRunsPanel";
import styles from "./console.module.css";
import { ExplainPanel } from "./ExplainPanel";
import { LagHistory } from "./lag-history";
import { StatsBar } from "./StatsBar";
import { ThroughputPanel } from "./ThroughputPanel";
import { UserDetailPanel } from "./UserDetailPanel";
import { UsersPanel } from "./UsersPanel";
import { type ConsoleLive, useConsoleLive } from "./useConsoleLive";

/**
 * The admin console: everything it shows comes from the sync server's admin procedures and
 * is refetched whenever the live feed says something changed.
 */
export function ConsoleApp({
  signInHref,
  initialUserId,
}: {
  signInHref: string;
  initialUserId: string | null;
}) {
  const t = useTranslations("Console");
  const live = useConsoleLive();
  const [history] = useState(() => new LagHistory());
  const [userId, setUserId] = useState<string | null>(initialUserId);

  // The selected user lives in the address (?user=…), so a console view can be shared.
  useEffect(() => {
    const url = new URL(window.location.href);
    if (userId) url.searchParams.set("user", userId);
    else url.searchParams.delete("user");
    if (url.href !== window.location.href) window.history.replaceState(null, "", url);
  }, [userId]);
  const select = useCallback((id: string) => setUserId(id), []);
  const [explained, setExplained] = useState<string | null>(null);

  return (
    <>
      <header className={styles.header}>
        <div>
          <h1 data-testid="console-title">{t("title")}</h1>
          <p>{t("subtitle")}</p>
        </div>
        <LiveBadge live={live} />
      </header>
      <StatsBar />
      <div className={styles.split}>
        <UsersPanel selectedUserId={userId} onSelect={select} signInHref={signInHref} />
        <UserDetailPanel
          userId={userId}
          onClose={() => setUserId(null)}
          progress={live.progress}
          history={history}
          signInHref={signInHref}
        />
      </div>
      <AllDevicesPanel
        onSelectUser={select}
        onExplain={setExplained}
        history={history}
        signInHref={signInHref}
      />
      {explained ? (
        <ExplainPanel
          key={explained}
          deviceId={explained}
          onClose={() => setExplained(null)}
          signInHref={signInHref}
        />
      ) : null}
      <ThroughputPanel signInHref={signInHref} />
      <CompactionRunsPanel progress={live.progress} signInHref={signInHref} />
      <AuditPanel signInHref={signInHref} />
    </>
  );
}

function LiveBadge({ live }: { live: ConsoleLive }) {
  const t = useTranslations("Console.live");
  const format = useFormatter();
  return (
    <div className={styles.liveBox}>
      <span
        className={styles.live}
        data-status={live.status}
        data-testid="console-live"
        role="status"
      >
        {t(live.status)}
      </span>
      {live.lastChangeAt ? (
        <span className={styles.muted} data-testid="console-last-change">
          {t("updatedAt", {
            time: format.dateTime(new Date(live.lastChangeAt), { timeStyle: "medium" }),
          })}
        </span>
      ) : null}
    </div>
  );
}
