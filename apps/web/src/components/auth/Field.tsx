"use client";

import type { ReactNode } from "react";
import type { FieldErrorCode } from "@/lib/account-schema";
import { FieldError } from "./FormMessages";

/** What a field's control carries so assistive technology reads its error or hint with it. */
export interface FieldControlProps {
  id: string;
  "aria-invalid"?: true;
  "aria-describedby"?: string;
}

/**
 * One labelled form field: the label (with "optional" when it is), the control, then its error
 * when it has one, else its hint. The control gets its id and aria props from `children`, so the
 * error and hint are always the ones announced with it.
 */
export function Field({
  id,
  label,
  optional,
  error,
  alertError,
  hint,
  after,
  children,
}: {
  id: string;
  label: ReactNode;
  /** The "optional" mark after the label. */
  optional?: ReactNode;
  error?: FieldErrorCode | undefined;
  /** Announce the error at once (it appears after submit, away from the focus). */
  alertError?: boolean;
  hint?: ReactNode;
  /** Shown under the error or hint (a link such as "Forgot your password?"). */
  after?: ReactNode;
  children: (control: FieldControlProps) => ReactNode;
}) {
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = error ? errorId : hint ? hintId : undefined;
  return (
    <div className="field">
      <label className="field__label" htmlFor={id}>
        {label}
        {optional ? <span className="field__optional">{optional}</span> : null}
      </label>
      {children({
        id,
        ...(error ? { "aria-invalid": true as const } : {}),
        ...(describedBy ? { "aria-describedby": describedBy } : {}),
      })}
      {error ? (
        <FieldError id={errorId} code={error} alert={alertError} />
      ) : hint ? (
        <p id={hintId} className="field__hint">
          {hint}
        </p>
      ) : null}
      {after}
    </div>
  );
}
