"use client";

import { isLocale, localeNames, locales } from "@chorus/i18n";
import { useLocale, useTranslations } from "next-intl";
import { type ChangeEvent, useId, useTransition } from "react";
import { saveLocaleAction } from "@/app/[locale]/account/actions";
import { usePathname, useRouter } from "@/i18n/navigation";
import styles from "./LocaleSwitcher.module.css";

/** Switches language and stays on the same page (path, query and hash are kept). */
export function LocaleSwitcher() {
  const t = useTranslations("Common.nav");
  const locale = useLocale();
  const router = useRouter();
  const pathname = usePathname();
  const [isPending, startTransition] = useTransition();
  const id = useId();

  function onChange(event: ChangeEvent<HTMLSelectElement>) {
    const next = event.target.value;
    if (!isLocale(next) || next === locale) return;
    const { search, hash } = window.location;
    // Signed in: the account keeps the choice (signed out, the call changes nothing).
    void saveLocaleAction(next).catch(() => {});
    startTransition(() => {
      router.replace(`${pathname}${search}${hash}`, { locale: next });
    });
  }

  return (
    <div className={styles.switcher} data-pending={isPending || undefined}>
      <label htmlFor={id} className="visually-hidden">
        {t("languageSwitcher")}
      </label>
      <svg className={styles.icon} viewBox="0 0 24 24" aria-hidden="true">
        <circle cx="12" cy="12" r="9" />
        <path d="M3 12h18M12 3c2.5 2.7 3.8 5.7 3.8 9s-1.3 6.3-3.8 9c-2.5-2.7-3.8-5.7-3.8-9S9.5 5.7 12 3Z" />
      </svg>
      <select
        id={id}
        className={styles.select}
        value={locale}
        onChange={onChange}
        disabled={isPending}
        data-testid="locale-switcher"
      >
        {locales.map((option) => (
          <option key={option} value={option} lang={option}>
            {localeNames[option]}
          </option>
        ))}
      </select>
    </div>
  );
}
