"use client";

import { useTranslations } from "next-intl";
import { type FormEvent, useId, useState } from "react";
import { resetPasswordAction } from "@/app/[locale]/account/actions";
import { Link } from "@/i18n/navigation";
import type { FieldErrorCode } from "@/lib/account-schema";
import styles from "./auth.module.css";
import { Field } from "./Field";
import { PasswordInput } from "./PasswordInput";
import { SubmitButton } from "./SubmitButton";

type State = "form" | "done" | "invalid";

/** Sets a new password with the one-time link from the reset mail. */
export function ResetPasswordForm({ token }: { token: string }) {
  const t = useTranslations("Auth");
  const id = useId();
  const [password, setPassword] = useState("");
  const [error, setError] = useState<FieldErrorCode | undefined>();
  const [state, setState] = useState<State>(token ? "form" : "invalid");
  const [pending, setPending] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setPending(true);
    try {
      const result = await resetPasswordAction(token, password);
      if (result.ok) setState("done");
      else if (["invalid", "expired", "used"].includes(result.error)) setState("invalid");
      else setError(result.error as FieldErrorCode);
    } catch {
      setState("invalid");
    }
    setPending(false);
  }

  if (state === "done") {
    return (
      <div className="alert" role="status" data-testid="reset-done">
        <p>{t("reset.done")}</p>
        <Link href="/sign-in">{t("signIn.submit")}</Link>
      </div>
    );
  }
  if (state === "invalid") {
    return (
      <div className="alert alert--error" role="alert" data-testid="reset-invalid">
        <p>{t("reset.invalid")}</p>
        <Link href="/forgot-password">{t("reset.again")}</Link>
      </div>
    );
  }
  return (
    <form className={styles.form} onSubmit={onSubmit} noValidate data-testid="reset-form">
      <Field id={`${id}-password`} label={t("reset.password")} error={error}>
        {(control) => (
          <PasswordInput
            {...control}
            name="password"
            autoComplete="new-password"
            value={password}
            onChange={(event) => {
              setPassword(event.target.value);
              setError(undefined);
            }}
            data-testid="reset-password"
          />
        )}
      </Field>
      <SubmitButton label={t("reset.submit")} busy={pending} testId="reset-submit" />
    </form>
  );
}
