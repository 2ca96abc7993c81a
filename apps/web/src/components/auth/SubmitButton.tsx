"use client";

import styles from "./auth.module.css";

/**
 * A form's submit button: disabled while the form is busy (or `disabled`); with `busyLabel` it
 * shows a spinner and that label meanwhile.
 */
export function SubmitButton({
  label,
  busy,
  busyLabel,
  disabled,
  variant = "button--primary",
  testId,
}: {
  label: string;
  busy: boolean;
  busyLabel?: string;
  disabled?: boolean;
  /** The button's modifier classes (global `.button--*`). */
  variant?: string;
  testId?: string;
}) {
  const showBusy = busy && busyLabel !== undefined;
  return (
    <button
      type="submit"
      className={`button ${variant}`}
      disabled={busy || disabled}
      data-testid={testId}
    >
      {showBusy ? <span className={styles.spinner} aria-hidden="true" /> : null}
      {showBusy ? busyLabel : label}
    </button>
  );
}
