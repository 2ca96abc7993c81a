"use client";

import { signIn, signOut } from "next-auth/react";
import { useLocale, useTranslations } from "next-intl";
import { type FormEvent, useId, useState } from "react";
import {
  changePasswordAction,
  deleteAccountAction,
  resendVerificationAction,
  signOutEverywhereAction,
} from "@/app/[locale]/account/actions";
import { FieldError } from "@/components/auth/FormMessages";
import { PasswordInput } from "@/components/auth/PasswordInput";
import type { FieldErrorCode } from "@/lib/account-schema";
import styles from "./account.module.css";

/** Email confirmation, password, sessions, export and deletion of the signed-in account. */
export function SecurityPanel({ email, verified }: { email: string; verified: boolean }) {
  const t = useTranslations("Account.security");
  const tErrors = useTranslations("Auth.errors");
  const locale = useLocale();
  const id = useId();
  const [resent, setResent] = useState(false);
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [changeError, setChangeError] = useState<string | null>(null);
  const [changed, setChanged] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [deletePassword, setDeletePassword] = useState("");
  const [deleteError, setDeleteError] = useState(false);
  const [busy, setBusy] = useState(false);

  async function onChange(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setChangeError(null);
    const result = await changePasswordAction(current, next);
    if (result.ok) {
      // This browser's session ended with the others: sign in again with the new password.
      await signIn("credentials", { redirect: false, email, password: next });
      setChanged(true);
      setCurrent("");
      setNext("");
    } else setChangeError(result.error);
    setBusy(false);
  }

  async function onDelete(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setDeleteError(false);
    const result = await deleteAccountAction(deletePassword);
    if (result.ok) {
      await signOut({ callbackUrl: `/${locale}` });
      return;
    }
    setDeleteError(true);
    setBusy(false);
  }

  const newPasswordError: FieldErrorCode | undefined =
    changeError && changeError !== "wrong_password" ? (changeError as FieldErrorCode) : undefined;
  return (
    <section className={styles.panel} aria-labelledby="security-title" data-testid="security">
      <header className={styles.panelHeader}>
        <h2 id="security-title">{t("title")}</h2>
      </header>

      {verified ? (
        <p className={styles.muted} data-testid="email-verified">
          {t("emailVerified")}
        </p>
      ) : (
        <div className="alert" data-testid="email-unverified">
          <p>{t("emailUnverified")}</p>
          {resent ? (
            <p role="status">{t("resent")}</p>
          ) : (
            <button
              type="button"
              className="button button--small"
              onClick={async () => setResent((await resendVerificationAction(locale)).ok)}
            >
              {t("resend")}
            </button>
          )}
        </div>
      )}

      <form
        className={styles.securityForm}
        onSubmit={onChange}
        noValidate
        data-testid="change-password"
      >
        <h3>{t("changeTitle")}</h3>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-current`}>
            {t("current")}
          </label>
          <PasswordInput
            id={`${id}-current`}
            autoComplete="current-password"
            value={current}
            onChange={(event) => setCurrent(event.target.value)}
            aria-invalid={changeError === "wrong_password" ? true : undefined}
            aria-describedby={changeError === "wrong_password" ? `${id}-current-error` : undefined}
          />
          {changeError === "wrong_password" ? (
            <p id={`${id}-current-error`} className="field__error">
              {tErrors("wrong_password")}
            </p>
          ) : null}
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-next`}>
            {t("new")}
          </label>
          <PasswordInput
            id={`${id}-next`}
            autoComplete="new-password"
            value={next}
            onChange={(event) => setNext(event.target.value)}
            aria-invalid={newPasswordError ? true : undefined}
            aria-describedby={newPasswordError ? `${id}-next-error` : undefined}
          />
          <FieldError id={`${id}-next-error`} code={newPasswordError} />
        </div>
        <button type="submit" className="button" disabled={busy}>
          {t("changeSubmit")}
        </button>
        {changed ? <p role="status">{t("changed")}</p> : null}
      </form>

      <div className={styles.securityRow}>
        <div>
          <h3>{t("signOutAll")}</h3>
          <p className={styles.muted}>{t("signOutAllBody")}</p>
        </div>
        <button
          type="button"
          className="button"
          data-testid="sign-out-everywhere"
          onClick={async () => {
            await signOutEverywhereAction();
            await signOut({ callbackUrl: `/${locale}/sign-in` });
          }}
        >
          {t("signOutAll")}
        </button>
      </div>

      <div className={styles.securityRow}>
        <a className="button" href="/api/account/export" download data-testid="export-data">
          {t("export")}
        </a>
      </div>

      <div className={styles.securityRow}>
        <div>
          <h3>{t("deleteTitle")}</h3>
          <p className={styles.muted}>{t("deleteBody")}</p>
        </div>
        {confirmDelete ? null : (
          <button
            type="button"
            className="button button--danger"
            onClick={() => setConfirmDelete(true)}
            data-testid="delete-account"
          >
            {t("deleteTitle")}
          </button>
        )}
      </div>
      {confirmDelete ? (
        <form
          className={styles.confirm}
          onSubmit={onDelete}
          noValidate
          data-testid="delete-confirm"
        >
          <div className="field">
            <label className="field__label" htmlFor={`${id}-delete`}>
              {t("deleteConfirm")}
            </label>
            <PasswordInput
              id={`${id}-delete`}
              autoComplete="current-password"
              value={deletePassword}
              onChange={(event) => setDeletePassword(event.target.value)}
              aria-invalid={deleteError ? true : undefined}
              aria-describedby={deleteError ? `${id}-delete-error` : undefined}
              data-testid="delete-password"
            />
            {deleteError ? (
              <p id={`${id}-delete-error`} className="field__error" role="alert">
                {tErrors("wrong_password")}
              </p>
            ) : null}
          </div>
          <div className={styles.inlineActions}>
            <button
              type="button"
              className="button button--small button--ghost"
              onClick={() => setConfirmDelete(false)}
            >
              {t("cancel")}
            </button>
            <button
              type="submit"
              className="button button--small button--danger"
              disabled={busy}
              data-testid="delete-submit"
            >
              {t("deleteSubmit")}
            </button>
          </div>
        </form>
      ) : null}
    </section>
  );
}
