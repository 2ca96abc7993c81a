"use client";

import { useLocale, useTranslations } from "next-intl";
import { type FormEvent, useId, useState } from "react";
import { requestPasswordResetAction } from "@/app/[locale]/account/actions";
import styles from "./auth.module.css";
import { Field } from "./Field";
import { FormAlert, type FormProblem, formProblemOf } from "./FormMessages";
import { SubmitButton } from "./SubmitButton";

/** Asks for a reset link; the answer never says whether the email has an account. */
export function ForgotPasswordForm() {
  const t = useTranslations("Auth");
  const locale = useLocale();
  const id = useId();
  const [email, setEmail] = useState("");
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [problem, setProblem] = useState<FormProblem | null>(null);
  const [pending, setPending] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setPending(true);
    setProblem(null);
    try {
      const result = await requestPasswordResetAction(email, locale);
      if (result.ok) setSentTo(email.trim());
      else setProblem(formProblemOf(result.error));
    } catch {
      setProblem({ code: "unknown" });
    }
    setPending(false);
  }

  if (sentTo !== null) {
    return (
      <p className="alert" role="status" data-testid="forgot-sent">
        {t("forgot.sent", { email: sentTo })}
      </p>
    );
  }
  return (
    <form className={styles.form} onSubmit={onSubmit} data-testid="forgot-form">
      <FormAlert problem={problem} onExpired={() => setProblem(null)} />
      <Field id={`${id}-email`} label={t("fields.email")}>
        {(control) => (
          <input
            {...control}
            name="email"
            type="email"
            required
            className="input"
            autoComplete="email"
            // biome-ignore lint/a11y/noAutofocus: the page's only field, reached from "Forgot your password?"
            autoFocus
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            data-testid="forgot-email"
          />
        )}
      </Field>
      <SubmitButton label={t("forgot.submit")} busy={pending} testId="forgot-submit" />
    </form>
  );
}
