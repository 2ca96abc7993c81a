"use client";

import { useLocale, useTranslations } from "next-intl";
import { useEffect, useState } from "react";
import {
  type FieldErrorCode,
  NAME_MAX_LENGTH,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
} from "@/lib/account-schema";
import { formatDuration } from "@/lib/format-duration";

/** Problems a whole form can have, beyond one field's. */
export type FormProblem =
  | { code: "invalid_credentials" }
  | { code: "throttled"; until: number }
  | { code: "unknown" };

/** Turns an error code from next-auth or a server action into a form problem. */
export function formProblemOf(code: string | null | undefined, now = Date.now()): FormProblem {
  const throttled = /^throttled:(\d+)$/.exec(code ?? "");
  if (throttled) return { code: "throttled", until: now + Number(throttled[1]) * 1000 };
  if (code === "invalid_credentials" || code === "CredentialsSignin") {
    return { code: "invalid_credentials" };
  }
  return { code: "unknown" };
}

/** Seconds left until `until`, ticking; 0 once passed. */
export function useSecondsLeft(until: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (until === null) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [until]);
  return until === null ? 0 : Math.max(0, Math.ceil((until - now) / 1000));
}

function AlertIcon() {
  return (
    <svg className="alert__icon" viewBox="0 0 20 20" aria-hidden="true">
      <circle cx="10" cy="10" r="8" fill="none" stroke="currentColor" strokeWidth="1.6" />
      <path d="M10 6v5" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
      <circle cx="10" cy="13.9" r="1.1" fill="currentColor" />
    </svg>
  );
}

/** One field's problem, announced to screen readers with the field (aria-describedby). */
export function FieldError({
  id,
  code,
  alert,
}: {
  id: string;
  code: FieldErrorCode | undefined;
  /** Announce it at once (an error that appears after submit, away from the focus). */
  alert?: boolean;
}) {
  const t = useTranslations("Auth.errors");
  if (!code) return null;
  const text =
    code === "password_too_short"
      ? t("password_too_short", { min: PASSWORD_MIN_LENGTH })
      : code === "password_too_long"
        ? t("password_too_long", { max: PASSWORD_MAX_LENGTH })
        : code === "name_too_long"
          ? t("name_too_long", { max: NAME_MAX_LENGTH })
          : t(code);
  return (
    <p
      id={id}
      className="field__error"
      role={alert ? "alert" : undefined}
      data-testid={`field-error-${code}`}
    >
      {text}
    </p>
  );
}

/** The form's problem, live: a throttle counts down and disappears when it is over. */
export function FormAlert({
  problem,
  onExpired,
}: {
  problem: FormProblem | null;
  onExpired: () => void;
}) {
  const t = useTranslations("Auth.errors");
  const locale = useLocale();
  const secondsLeft = useSecondsLeft(problem?.code === "throttled" ? problem.until : null);
  const expired = problem?.code === "throttled" && secondsLeft === 0;
  useEffect(() => {
    if (expired) onExpired();
  }, [expired, onExpired]);
  if (!problem || expired) return null;
  const text =
    problem.code === "throttled"
      ? t("throttled", { wait: formatDuration(secondsLeft * 1000, locale) })
      : t(problem.code);
  return (
    <div className="alert alert--error" role="alert" data-testid={`form-error-${problem.code}`}>
      <AlertIcon />
      <p>{text}</p>
    </div>
  );
}
