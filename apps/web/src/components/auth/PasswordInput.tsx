"use client";

import { useTranslations } from "next-intl";
import { type InputHTMLAttributes, useState } from "react";
import styles from "./auth.module.css";

/** A password field with a show/hide toggle (typing blind on a phone is how typos happen). */
type PasswordInputProps = Omit<InputHTMLAttributes<HTMLInputElement>, "type"> & {
  inputRef?: (input: HTMLInputElement | null) => void;
};

export function PasswordInput({ inputRef, ...props }: PasswordInputProps) {
  const t = useTranslations("Auth.fields");
  const [visible, setVisible] = useState(false);
  return (
    <div className={styles.passwordWrap}>
      <input {...props} ref={inputRef} type={visible ? "text" : "password"} className="input" />
      <button
        type="button"
        className={styles.reveal}
        onClick={() => setVisible((shown) => !shown)}
        aria-label={visible ? t("hidePassword") : t("showPassword")}
        aria-pressed={visible}
        aria-controls={props.id}
      >
        {visible ? (
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <path d="M3 3l18 18M10.6 10.6a2 2 0 002.8 2.8M9.9 5.1A9.7 9.7 0 0112 5c5 0 8.5 4.5 9.5 7-.4 1-1.2 2.4-2.4 3.6M6.1 6.1C4.3 7.4 3 9.3 2.5 12c1 2.5 4.5 7 9.5 7 1.7 0 3.2-.5 4.5-1.3" />
          </svg>
        ) : (
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <path d="M2.5 12c1-2.5 4.5-7 9.5-7s8.5 4.5 9.5 7c-1 2.5-4.5 7-9.5 7s-8.5-4.5-9.5-7z" />
            <circle cx="12" cy="12" r="3" />
          </svg>
        )}
      </button>
    </div>
  );
}
