"use client";

import { signIn } from "next-auth/react";
import { useLocale, useTranslations } from "next-intl";
import { type FormEvent, useCallback, useEffect, useId, useRef, useState } from "react";
import { createAccount } from "@/app/[locale]/sign-up/actions";
import { Link } from "@/i18n/navigation";
import {
  type FieldErrors,
  fieldErrorsOf,
  PASSWORD_MIN_LENGTH,
  SignUpInput,
} from "@/lib/account-schema";
import styles from "./auth.module.css";
import { FieldError, FormAlert, type FormProblem, formProblemOf } from "./FormMessages";
import { PasswordInput } from "./PasswordInput";

type Fields = { name: string; email: string; password: string };
type Field = keyof Fields;

function validate(fields: Fields): FieldErrors {
  const parsed = SignUpInput.safeParse(fields);
  return parsed.success ? {} : fieldErrorsOf(parsed.error);
}

export function SignUpForm({ callbackUrl }: { callbackUrl: string }) {
  const t = useTranslations("Auth");
  const locale = useLocale();
  const id = useId();
  const refs = {
    name: useRef<HTMLInputElement>(null),
    email: useRef<HTMLInputElement>(null),
    password: useRef<HTMLInputElement>(null),
  };
  const [fields, setFields] = useState<Fields>({ name: "", email: "", password: "" });
  const [touched, setTouched] = useState<Partial<Record<Field, boolean>>>({});
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<FormProblem | null>(null);
  const [pending, setPending] = useState(false);
  const [ready, setReady] = useState(false);
  const clearProblem = useCallback(() => setProblem(null), []);

  // Whatever was typed before the page became interactive (autofill, a fast typist) counts.
  // biome-ignore lint/correctness/useExhaustiveDependencies: refs are stable; runs once, after hydration.
  useEffect(() => {
    setFields({
      name: refs.name.current?.value ?? "",
      email: refs.email.current?.value ?? "",
      password: refs.password.current?.value ?? "",
    });
    setReady(true);
  }, []);

  const errors = { ...validate(fields), ...serverErrors };
  const shown = (field: Field) => (touched[field] ? errors[field] : undefined);
  const emailTaken = problem?.code === "email_taken";

  function update(field: Field, value: string) {
    setFields((current) => ({ ...current, [field]: value }));
    setServerErrors(({ [field]: _cleared, ...rest }) => rest);
    if (field === "email" && emailTaken) setProblem(null);
  }

  const blur = (field: Field) => () => setTouched((current) => ({ ...current, [field]: true }));

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setTouched({ name: true, email: true, password: true });
    const firstInvalid = (["name", "email", "password"] as const).find((field) => errors[field]);
    if (firstInvalid) return refs[firstInvalid].current?.focus();
    setPending(true);
    try {
      const created = await createAccount(fields, locale);
      if (!created.ok) {
        if (created.error === "invalid") setServerErrors(created.fieldErrors);
        else if (created.error === "throttled") {
          setProblem(formProblemOf(`throttled:${created.retryAfterSeconds}`));
        } else {
          setProblem({ code: "email_taken" });
          refs.email.current?.focus();
        }
        setPending(false);
        return;
      }
      const session = await signIn("credentials", {
        redirect: false,
        email: fields.email,
        password: fields.password,
      });
      if (session?.ok && !session.error) {
        window.location.assign(callbackUrl);
        return;
      }
      setProblem(formProblemOf(session?.error));
    } catch {
      setProblem({ code: "unknown" });
    }
    setPending(false);
  }

  const signInHref = { pathname: "/sign-in", query: { callbackUrl } } as const;
  return (
    <form
      className={styles.form}
      onSubmit={onSubmit}
      noValidate
      data-ready={ready || undefined}
      data-testid="sign-up-form"
    >
      <FormAlert
        problem={problem}
        onExpired={clearProblem}
        extra={
          emailTaken ? (
            <Link href={signInHref} data-testid="sign-in-instead">
              {t("signUp.signInInstead")}
            </Link>
          ) : null
        }
      />
      <div className="field">
        <label className="field__label" htmlFor={`${id}-name`}>
          {t("fields.name")}
          <span className="field__optional">{t("fields.optional")}</span>
        </label>
        <input
          ref={refs.name}
          id={`${id}-name`}
          name="name"
          className="input"
          autoComplete="name"
          value={fields.name}
          onChange={(event) => update("name", event.target.value)}
          onBlur={blur("name")}
          aria-invalid={shown("name") ? true : undefined}
          aria-describedby={shown("name") ? `${id}-name-error` : undefined}
          data-testid="sign-up-name"
        />
        <FieldError id={`${id}-name-error`} code={shown("name")} />
      </div>
      <div className="field">
        <label className="field__label" htmlFor={`${id}-email`}>
          {t("fields.email")}
        </label>
        <input
          ref={refs.email}
          id={`${id}-email`}
          name="email"
          type="email"
          className="input"
          autoComplete="email"
          inputMode="email"
          placeholder={t("fields.emailPlaceholder")}
          value={fields.email}
          onChange={(event) => update("email", event.target.value)}
          onBlur={blur("email")}
          aria-invalid={shown("email") || emailTaken ? true : undefined}
          aria-describedby={shown("email") ? `${id}-email-error` : undefined}
          data-testid="sign-up-email"
        />
        <FieldError id={`${id}-email-error`} code={shown("email")} />
      </div>
      <div className="field">
        <label className="field__label" htmlFor={`${id}-password`}>
          {t("fields.password")}
        </label>
        <PasswordInput
          inputRef={refs.password}
          id={`${id}-password`}
          name="password"
          autoComplete="new-password"
          value={fields.password}
          onChange={(event) => update("password", event.target.value)}
          onBlur={blur("password")}
          aria-invalid={shown("password") ? true : undefined}
          aria-describedby={`${id}-password-${shown("password") ? "error" : "hint"}`}
          data-testid="sign-up-password"
        />
        {shown("password") ? (
          <FieldError id={`${id}-password-error`} code={shown("password")} />
        ) : (
          <p id={`${id}-password-hint`} className="field__hint">
            {t("fields.passwordHint", { min: PASSWORD_MIN_LENGTH })}
          </p>
        )}
      </div>
      <button
        type="submit"
        className="button button--primary button--block"
        disabled={pending || problem?.code === "throttled"}
        data-testid="sign-up-submit"
      >
        {pending ? <span className={styles.spinner} aria-hidden="true" /> : null}
        {pending ? t("signUp.submitting") : t("signUp.submit")}
      </button>
    </form>
  );
}
