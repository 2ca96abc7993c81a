"use client";

import { signIn } from "next-auth/react";
import { useLocale, useTranslations } from "next-intl";
import { type FormEvent, useCallback, useId, useState } from "react";
import { savedLocaleAction } from "@/app/[locale]/account/actions";
import { Link } from "@/i18n/navigation";
import { SignInInput } from "@/lib/account-schema";
import styles from "./auth.module.css";
import { Field } from "./Field";
import { FormAlert, type FormProblem, formProblemOf } from "./FormMessages";
import { PasswordInput } from "./PasswordInput";
import { SubmitButton } from "./SubmitButton";
import { EmailInput } from "./TextInput";
import { useFormFields } from "./useFormFields";

export function SignInForm({ callbackUrl }: { callbackUrl: string }) {
  const t = useTranslations("Auth");
  const locale = useLocale();
  const id = useId();
  const [problem, setProblem] = useState<FormProblem | null>(null);
  // Editing either field clears "email and password do not match".
  const form = useFormFields(["email", "password"], SignInInput, () =>
    setProblem((current) => (current?.code === "invalid_credentials" ? null : current)),
  );
  const [pending, setPending] = useState(false);
  const clearProblem = useCallback(() => setProblem(null), []);
  const { values, shown } = form;

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (form.invalid()) return;
    setPending(true);
    try {
      const result = await signIn("credentials", {
        redirect: false,
        email: values.email,
        password: values.password,
      });
      if (result?.ok && !result.error) {
        // A full load, so the header and every server component see the new session; in the
        // language the account saved, when it saved one.
        const saved = await savedLocaleAction().catch(() => null);
        window.location.assign(
          saved && saved !== locale
            ? callbackUrl.replace(new RegExp(`^/${locale}(?=/|\\?|$)`), `/${saved}`)
            : callbackUrl,
        );
        return;
      }
      setProblem(formProblemOf(result?.error));
      if (result?.error === "invalid_credentials") {
        document.querySelector<HTMLInputElement>(`#${CSS.escape(`${id}-password`)}`)?.select();
      }
    } catch {
      setProblem({ code: "unknown" });
    }
    setPending(false);
  }

  const throttled = problem?.code === "throttled";
  return (
    <form
      className={styles.form}
      onSubmit={onSubmit}
      noValidate
      data-ready={form.ready || undefined}
      data-testid="sign-in-form"
    >
      <FormAlert problem={problem} onExpired={clearProblem} />
      <Field id={`${id}-email`} label={t("fields.email")} error={shown("email")}>
        {(control) => (
          <EmailInput
            {...control}
            {...form.bind("email")}
            // An email field left empty (it has focus from the start) waits for submit: showing
            // "required" on blur would move the page under the pointer, e.g. on "Forgot password?".
            onBlur={(event) => {
              if (event.target.value) form.touch("email");
            }}
            // Signing in is the page's one task; its first field is email.
            autoFocus
            data-testid="sign-in-email"
          />
        )}
      </Field>
      <Field
        id={`${id}-password`}
        label={t("fields.password")}
        error={shown("password")}
        after={
          <Link href="/forgot-password" className={styles.forgot} data-testid="to-forgot-password">
            {t("signIn.forgot")}
          </Link>
        }
      >
        {(control) => (
          <PasswordInput
            {...control}
            {...form.bind("password")}
            autoComplete="current-password"
            data-testid="sign-in-password"
          />
        )}
      </Field>
      <SubmitButton
        label={t("signIn.submit")}
        busy={pending}
        busyLabel={t("signIn.submitting")}
        disabled={throttled}
        variant="button--primary button--block"
        testId="sign-in-submit"
      />
    </form>
  );
}
