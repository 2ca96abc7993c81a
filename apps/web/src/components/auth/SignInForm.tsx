"use client";

import { signIn } from "next-auth/react";
import { useLocale, useTranslations } from "next-intl";
import { type FormEvent, useCallback, useEffect, useId, useRef, useState } from "react";
import { savedLocaleAction } from "@/app/[locale]/account/actions";
import { Link } from "@/i18n/navigation";
import { type FieldErrors, fieldErrorsOf, SignInInput } from "@/lib/account-schema";
import styles from "./auth.module.css";
import { FieldError, FormAlert, type FormProblem, formProblemOf } from "./FormMessages";
import { PasswordInput } from "./PasswordInput";

type Fields = { email: string; password: string };

function validate(fields: Fields): FieldErrors {
  const parsed = SignInInput.safeParse(fields);
  return parsed.success ? {} : fieldErrorsOf(parsed.error);
}

export function SignInForm({ callbackUrl }: { callbackUrl: string }) {
  const t = useTranslations("Auth");
  const locale = useLocale();
  const id = useId();
  const emailRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const [fields, setFields] = useState<Fields>({ email: "", password: "" });
  const [touched, setTouched] = useState<Partial<Record<keyof Fields, boolean>>>({});
  const [problem, setProblem] = useState<FormProblem | null>(null);
  const [pending, setPending] = useState(false);
  const [ready, setReady] = useState(false);
  const clearProblem = useCallback(() => setProblem(null), []);

  // Whatever was typed before the page became interactive (autofill, a fast typist) counts.
  useEffect(() => {
    setFields({
      email: emailRef.current?.value ?? "",
      password: passwordRef.current?.value ?? "",
    });
    setReady(true);
  }, []);

  const errors = validate(fields);
  const shown = (field: keyof Fields) => (touched[field] ? errors[field] : undefined);

  function update(field: keyof Fields, value: string) {
    setFields((current) => ({ ...current, [field]: value }));
    if (problem?.code === "invalid_credentials") setProblem(null);
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setTouched({ email: true, password: true });
    if (errors.email) return emailRef.current?.focus();
    if (errors.password) return passwordRef.current?.focus();
    setPending(true);
    try {
      const result = await signIn("credentials", {
        redirect: false,
        email: fields.email,
        password: fields.password,
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
      if (result?.error === "invalid_credentials") passwordRef.current?.select();
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
      data-ready={ready || undefined}
      data-testid="sign-in-form"
    >
      <FormAlert problem={problem} onExpired={clearProblem} />
      <div className="field">
        <label className="field__label" htmlFor={`${id}-email`}>
          {t("fields.email")}
        </label>
        <input
          ref={emailRef}
          id={`${id}-email`}
          name="email"
          type="email"
          className="input"
          autoComplete="email"
          inputMode="email"
          placeholder={t("fields.emailPlaceholder")}
          value={fields.email}
          onChange={(event) => update("email", event.target.value)}
          // An email field left empty (it has focus from the start) waits for submit: showing
          // "required" on blur would move the page under the pointer, e.g. on "Forgot password?".
          onBlur={(event) => {
            if (event.target.value) setTouched((current) => ({ ...current, email: true }));
          }}
          aria-invalid={shown("email") ? true : undefined}
          aria-describedby={shown("email") ? `${id}-email-error` : undefined}
          // biome-ignore lint/a11y/noAutofocus: signing in is the page's one task; its first field is email
          autoFocus
          data-testid="sign-in-email"
        />
        <FieldError id={`${id}-email-error`} code={shown("email")} />
      </div>
      <div className="field">
        <label className="field__label" htmlFor={`${id}-password`}>
          {t("fields.password")}
        </label>
        <PasswordInput
          inputRef={passwordRef}
          id={`${id}-password`}
          name="password"
          autoComplete="current-password"
          value={fields.password}
          onChange={(event) => update("password", event.target.value)}
          onBlur={() => setTouched((current) => ({ ...current, password: true }))}
          aria-invalid={shown("password") ? true : undefined}
          aria-describedby={shown("password") ? `${id}-password-error` : undefined}
          data-testid="sign-in-password"
        />
        <FieldError id={`${id}-password-error`} code={shown("password")} />
        <Link href="/forgot-password" className={styles.forgot} data-testid="to-forgot-password">
          {t("signIn.forgot")}
        </Link>
      </div>
      <button
        type="submit"
        className="button button--primary button--block"
        disabled={pending || throttled}
        data-testid="sign-in-submit"
      >
        {pending ? <span className={styles.spinner} aria-hidden="true" /> : null}
        {pending ? t("signIn.submitting") : t("signIn.submit")}
      </button>
    </form>
  );
}
