"use client";

import { useLocale, useTranslations } from "next-intl";
import { type FormEvent, useCallback, useId, useState } from "react";
import { createAccount } from "@/app/[locale]/sign-up/actions";
import { Link } from "@/i18n/navigation";
import { PASSWORD_MIN_LENGTH, SignUpInput } from "@/lib/account-schema";
import styles from "./auth.module.css";
import { Field } from "./Field";
import { FormAlert, type FormProblem, formProblemOf } from "./FormMessages";
import { PasswordInput } from "./PasswordInput";
import { SubmitButton } from "./SubmitButton";
import { EmailInput, TextInput } from "./TextInput";
import { useFormFields } from "./useFormFields";

export function SignUpForm({ callbackUrl }: { callbackUrl: string }) {
  const t = useTranslations("Auth");
  const locale = useLocale();
  const id = useId();
  const form = useFormFields(["name", "email", "password"], SignUpInput);
  const { values, shown } = form;
  const [problem, setProblem] = useState<FormProblem | null>(null);
  const [pending, setPending] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const clearProblem = useCallback(() => setProblem(null), []);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (form.invalid()) return;
    setPending(true);
    try {
      const created = await createAccount(values, locale);
      if (created.ok) {
        setSentTo(values.email.trim());
        return;
      }
      if (created.error === "invalid") form.setServerErrors(created.fieldErrors);
      else setProblem(formProblemOf(`throttled:${created.retryAfterSeconds}`));
    } catch {
      setProblem({ code: "unknown" });
    }
    setPending(false);
  }

  // The same answer whether the address is new or already has an account (docs/adr/0005).
  if (sentTo !== null) {
    return (
      <div className="alert" role="status" data-testid="sign-up-check-inbox">
        <div>
          <p>
            <strong>{t("signUp.checkInboxTitle")}</strong>
          </p>
          <p>{t("signUp.checkInbox", { email: sentTo })}</p>
          <Link
            href={{ pathname: "/sign-in", query: { callbackUrl } }}
            data-testid="sign-up-to-sign-in"
          >
            {t("signUp.signIn")}
          </Link>
        </div>
      </div>
    );
  }
  return (
    <form
      className={styles.form}
      onSubmit={onSubmit}
      noValidate
      data-ready={form.ready || undefined}
      data-testid="sign-up-form"
    >
      <FormAlert problem={problem} onExpired={clearProblem} />
      <Field
        id={`${id}-name`}
        label={t("fields.name")}
        optional={t("fields.optional")}
        error={shown("name")}
      >
        {(control) => (
          <TextInput
            {...control}
            {...form.bind("name")}
            autoComplete="name"
            data-testid="sign-up-name"
          />
        )}
      </Field>
      <Field id={`${id}-email`} label={t("fields.email")} error={shown("email")}>
        {(control) => (
          <EmailInput {...control} {...form.bind("email")} data-testid="sign-up-email" />
        )}
      </Field>
      <Field
        id={`${id}-password`}
        label={t("fields.password")}
        error={shown("password")}
        hint={t("fields.passwordHint", { min: PASSWORD_MIN_LENGTH })}
      >
        {(control) => (
          <PasswordInput
            {...control}
            {...form.bind("password")}
            autoComplete="new-password"
            data-testid="sign-up-password"
          />
        )}
      </Field>
      <SubmitButton
        label={t("signUp.submit")}
        busy={pending}
        busyLabel={t("signUp.submitting")}
        disabled={problem?.code === "throttled"}
        variant="button--primary button--block"
        testId="sign-up-submit"
      />
    </form>
  );
}
