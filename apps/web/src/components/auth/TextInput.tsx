"use client";

import { useTranslations } from "next-intl";
import type { InputHTMLAttributes } from "react";

export type TextInputProps = InputHTMLAttributes<HTMLInputElement> & {
  inputRef?: (input: HTMLInputElement | null) => void;
};

/** A text field of the account forms (the global `.input` look). */
export function TextInput({ inputRef, ...props }: TextInputProps) {
  return <input {...props} ref={inputRef} className="input" />;
}

/** An email address field: the keyboard, autofill and placeholder for one. */
export function EmailInput(props: Omit<TextInputProps, "type">) {
  const t = useTranslations("Auth.fields");
  return (
    <TextInput
      type="email"
      autoComplete="email"
      inputMode="email"
      placeholder={t("emailPlaceholder")}
      {...props}
    />
  );
}
