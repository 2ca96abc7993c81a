import { isLocale, type Locale, loadMessages, type Messages, textDirection } from "@chorus/i18n";
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { IntlProvider } from "use-intl";

/** The first of the user's languages Chorus ships in, else English. */
export function pickLocale(languages: readonly string[]): Locale {
  for (const language of languages) {
    if (isLocale(language)) return language;
    const base = language.split("-")[0] ?? "";
    if (isLocale(base)) return base;
    if (base === "zh")
      return language.includes("TW") || language.includes("Hant") ? "zh-TW" : "zh-CN";
    if (base === "pt") return "pt-BR";
  }
  return "en";
}

/** Loads the catalog of the system language (strings from packages/i18n, namespace Desktop). */
export function I18nProvider({ children }: { children: ReactNode }) {
  const locale = pickLocale(navigator.languages);
  const messages = useQuery<Messages>({
    queryKey: ["messages", locale],
    queryFn: () => loadMessages(locale),
    staleTime: Number.POSITIVE_INFINITY,
  });
  if (!messages.data) return null;
  document.documentElement.lang = locale;
  document.documentElement.dir = textDirection(locale);
  return (
    <IntlProvider
      locale={locale}
      messages={messages.data}
      timeZone={Intl.DateTimeFormat().resolvedOptions().timeZone}
    >
      {children}
    </IntlProvider>
  );
}
