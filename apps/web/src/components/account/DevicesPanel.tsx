"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { type ReactNode, useState } from "react";
import { isSessionEnded } from "@/components/SyncApiProvider";
import { Panel } from "@/components/ui/Panel";
import { useTRPC } from "@/lib/trpc";
import styles from "./account.module.css";
import { ConnectDesktop } from "./ConnectDesktop";
import { DeviceCard } from "./DeviceCard";

/** The signed-in user's bound desktop profiles, from the sync server's devices router. */
export function DevicesPanel({ signInHref, webUrl }: { signInHref: string; webUrl: string }) {
  const t = useTranslations("Account.devices");
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [announcement, setAnnouncement] = useState("");
  // Refetched now and then so "last synced" and "online" stay current on an open page.
  const devices = useQuery({ ...trpc.devices.list.queryOptions(), refetchInterval: 30_000 });
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.devices.list.queryKey() });
  const rename = useMutation(trpc.devices.rename.mutationOptions({ onSettled: refresh }));
  const revoke = useMutation(trpc.devices.revoke.mutationOptions({ onSettled: refresh }));

  let body: ReactNode;
  if (devices.isPending) {
    body = (
      <p className={styles.state} data-testid="devices-loading">
        {t("loading")}
      </p>
    );
  } else if (devices.isError) {
    body = isSessionEnded(devices.error) ? (
      <div className="alert alert--error" role="alert" data-testid="devices-session-ended">
        <p>
          {t("sessionEnded")} <a href={signInHref}>{t("signInAgain")}</a>
        </p>
      </div>
    ) : (
      <div className="alert alert--error" role="alert" data-testid="devices-error">
        <p>{t("error")}</p>
        <button type="button" className="button button--small" onClick={() => devices.refetch()}>
          {t("retry")}
        </button>
      </div>
    );
  } else if (devices.data.length === 0) {
    body = (
      <>
        <div className={styles.empty} data-testid="devices-empty">
          <p className={styles.emptyTitle}>{t("emptyTitle")}</p>
        </div>
        <ConnectDesktop webUrl={webUrl} />
      </>
    );
  } else {
    // Working desktops first, newest binding first; revoked ones after.
    const sorted = [...devices.data].sort(
      (a, b) =>
        Number(a.revokedAt !== null) - Number(b.revokedAt !== null) ||
        new Date(b.boundAt).getTime() - new Date(a.boundAt).getTime(),
    );
    body = (
      <ul className={styles.list} data-testid="device-list">
        {sorted.map((device) => (
          <DeviceCard
            key={device.id}
            device={device}
            onRename={async (name) => {
              await rename.mutateAsync({ deviceId: device.id, name });
              setAnnouncement(t("renamed", { name }));
            }}
            onRevoke={async () => {
              await revoke.mutateAsync({ deviceId: device.id });
              setAnnouncement(t("revokedNotice", { name: device.name }));
            }}
          />
        ))}
      </ul>
    );
  }

  const count = devices.data?.filter((device) => device.revokedAt === null).length;
  return (
    <Panel
      title={t("title")}
      subtitle={t("subtitle")}
      testId="devices"
      actions={
        count !== undefined ? (
          <span className={styles.count} data-testid="device-count">
            {t("count", { count })}
          </span>
        ) : null
      }
    >
      {body}
      <p className="visually-hidden" aria-live="polite" data-testid="devices-announcement">
        {announcement}
      </p>
    </Panel>
  );
}
