"use client";

import { useLocale, useTranslations } from "next-intl";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { platformName } from "@/components/desktop-login/platform";
import { formatDateTime, formatRelative } from "@/lib/format-time";
import styles from "./account.module.css";
import { DeviceHealth } from "./DeviceHealth";

/** What the sync server's devices.list returns per device (dates arrive as JSON strings). */
export type DeviceView = {
  id: string;
  name: string;
  platform: string;
  appVersion: string;
  boundAt: Date | string;
  lastSeenAt: Date | string | null;
  revokedAt: Date | string | null;
  online: boolean;
};

type Mode = "view" | "rename" | "confirm-revoke";

export function DeviceCard({
  device,
  onRename,
  onRevoke,
}: {
  device: DeviceView;
  onRename: (name: string) => Promise<void>;
  onRevoke: () => Promise<void>;
}) {
  const t = useTranslations("Account.devices");
  const appName = useTranslations("Common")("appName");
  const locale = useLocale();
  const id = useId();
  const [mode, setMode] = useState<Mode>("view");
  const [draft, setDraft] = useState(device.name);
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const now = new Date();

  useEffect(() => {
    if (mode === "rename") inputRef.current?.select();
  }, [mode]);

  const revoked = device.revokedAt !== null;
  const trimmed = draft.trim();
  const nameInvalid = trimmed.length < 1 || trimmed.length > 80;

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setFailed(false);
    try {
      await action();
      setMode("view");
    } catch {
      setFailed(true);
    } finally {
      setBusy(false);
    }
  }

  function onSubmitRename(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (nameInvalid) return;
    if (trimmed === device.name) return setMode("view");
    void run(() => onRename(trimmed));
  }

  const status = revoked ? "revoked" : device.online ? "online" : "offline";
  return (
    <li
      className={styles.device}
      data-revoked={revoked || undefined}
      data-testid="device"
      data-device-id={device.id}
    >
      <span className={styles.deviceIcon} aria-hidden="true">
        <svg viewBox="0 0 24 24" aria-hidden="true">
          <rect x="3" y="4" width="18" height="12" rx="2" />
          <path d="M8 20h8M12 16v4" />
        </svg>
      </span>
      <div className={styles.deviceMain}>
        <div className={styles.deviceTitle}>
          <h3 data-testid="device-name">{device.name}</h3>
          <span className={styles.status} data-status={status} data-testid="device-status">
            {status === "revoked" ? t("revoked") : status === "online" ? t("online") : t("offline")}
          </span>
        </div>
        <p className={styles.deviceMeta}>
          <span className="ltr-value">{platformName(device.platform)}</span>
          {" · "}
          <span className="ltr-value">
            {appName} {device.appVersion}
          </span>
        </p>
        <dl className={styles.deviceDates}>
          <div>
            <dt>{t("boundAt")}</dt>
            <dd>{formatDateTime(new Date(device.boundAt), locale)}</dd>
          </div>
          <div>
            <dt>{revoked ? t("revokedAt") : t("lastSeen")}</dt>
            <dd data-testid="device-last-seen">
              {revoked && device.revokedAt ? (
                formatDateTime(new Date(device.revokedAt), locale)
              ) : device.lastSeenAt ? (
                <LastSeen at={new Date(device.lastSeenAt)} now={now} locale={locale} />
              ) : (
                t("never")
              )}
            </dd>
          </div>
        </dl>
        {revoked ? null : <DeviceHealth deviceId={device.id} />}

        {mode === "rename" ? (
          <form className={styles.inlineForm} onSubmit={onSubmitRename}>
            <label className="visually-hidden" htmlFor={`${id}-name`}>
              {t("renameLabel", { name: device.name })}
            </label>
            <input
              ref={inputRef}
              id={`${id}-name`}
              className="input"
              value={draft}
              maxLength={120}
              onChange={(event) => setDraft(event.target.value)}
              aria-invalid={nameInvalid || undefined}
              aria-describedby={nameInvalid ? `${id}-name-error` : undefined}
              data-testid="device-rename-input"
            />
            <div className={styles.inlineActions}>
              <button
                type="button"
                className="button button--small button--ghost"
                onClick={() => {
                  setDraft(device.name);
                  setMode("view");
                }}
              >
                {t("cancel")}
              </button>
              <button
                type="submit"
                className="button button--small button--primary"
                disabled={busy || nameInvalid}
                data-testid="device-rename-save"
              >
                {t("save")}
              </button>
            </div>
            {nameInvalid ? (
              <p id={`${id}-name-error`} className="field__error">
                {t("nameInvalid")}
              </p>
            ) : null}
          </form>
        ) : null}

        {mode === "confirm-revoke" ? (
          <div className={styles.confirm}>
            <p id={`${id}-confirm`} className={styles.confirmTitle}>
              {t("revokeConfirmTitle", { name: device.name })}
            </p>
            <p>{t("revokeConfirmBody")}</p>
            <div className={styles.inlineActions}>
              <button
                type="button"
                className="button button--small button--ghost"
                onClick={() => setMode("view")}
              >
                {t("cancel")}
              </button>
              <button
                type="button"
                className="button button--small button--danger"
                disabled={busy}
                onClick={() => void run(onRevoke)}
                data-testid="device-revoke-confirm"
              >
                {t("revokeConfirm")}
              </button>
            </div>
          </div>
        ) : null}

        {failed ? (
          <p className="field__error" role="alert">
            {t("actionFailed")}
          </p>
        ) : null}
      </div>

      {mode === "view" && !revoked ? (
        <div className={styles.deviceActions}>
          <button
            type="button"
            className="button button--small"
            onClick={() => {
              setDraft(device.name);
              setMode("rename");
            }}
            data-testid="device-rename"
          >
            {t("rename")}
          </button>
          <button
            type="button"
            className={`button button--small ${styles.revokeButton}`}
            onClick={() => setMode("confirm-revoke")}
            data-testid="device-revoke"
          >
            {t("revoke")}
          </button>
        </div>
      ) : null}
    </li>
  );
}

/** "3 minutes ago", and the exact moment beside it, both in the reader's language. */
function LastSeen({ at, now, locale }: { at: Date; now: Date; locale: string }) {
  const exact = formatDateTime(at, locale);
  return (
    <>
      <time dateTime={at.toISOString()} title={exact}>
        {formatRelative(at.getTime() > now.getTime() ? now : at, now, locale)}
      </time>
      <span className={styles.exactTime}> ({exact})</span>
    </>
  );
}
