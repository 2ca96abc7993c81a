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
import { Field } from "@/components/auth/Field";
import { PasswordInput } from "@/components/auth/PasswordInput";
import { SubmitButton } from "@/components/auth/SubmitButton";
import { Panel } from "@/components/ui/Panel";
import type { FieldErrorCode } from "@/lib/account-schema";
import styles from "./account.module.css";

/** Email confirmation, password, sessions, export and deletion of the signed-in account. */
export function SecurityPanel({ email, verified }: { email: string; verified: boolean }) {
  const t = useTranslations("Account.security");
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
    <Panel title={t("title")} testId="security">
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
        <Field
          id={`${id}-current`}
          label={t("current")}
          error={changeError === "wrong_password" ? "wrong_password" : undefined}
        >
          {(control) => (
            <PasswordInput
              {...control}
              autoComplete="current-password"
              value={current}
              onChange={(event) => setCurrent(event.target.value)}
            />
          )}
        </Field>
        <Field id={`${id}-next`} label={t("new")} error={newPasswordError}>
          {(control) => (
            <PasswordInput
              {...control}
              autoComplete="new-password"
              value={next}
              onChange={(event) => setNext(event.target.value)}
            />
          )}
        </Field>
        <SubmitButton label={t("changeSubmit")} busy={busy} variant="" />
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
          <Field
            id={`${id}-delete`}
            label={t("deleteConfirm")}
            error={deleteError ? "wrong_password" : undefined}
            alertError
          >
            {(control) => (
              <PasswordInput
                {...control}
                autoComplete="current-password"
                value={deletePassword}
                onChange={(event) => setDeletePassword(event.target.value)}
                data-testid="delete-password"
              />
            )}
          </Field>
          <div className={styles.inlineActions}>
            <button
              type="button"
              className="button button--small button--ghost"
              onClick={() => setConfirmDelete(false)}
            >
              {t("cancel")}
            </button>
            <SubmitButton
              label={t("deleteSubmit")}
              busy={busy}
              variant="button--small button--danger"
              testId="delete-submit"
            />
          </div>
        </form>
      ) : null}
    </Panel>
  );
}
