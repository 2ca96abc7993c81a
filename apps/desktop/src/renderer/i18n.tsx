import { isLocale, type Locale, loadMessages, type Messages, textDirection } from "@chorus/i18n";
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { IntlProvider } from "use-intl";
import { usePreferences } from "./preferences.js";

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

/**
 * Loads the catalog of the language chosen in Settings, else the system's (strings from
 * packages/i18n, namespace Desktop).
 */
export function I18nProvider({ children }: { children: ReactNode }) {
  const { locale: chosen } = usePreferences();
  const locale = chosen === "system" ? pickLocale(navigator.languages) : chosen;
  // A language switch keeps the current catalog on screen until the next one has loaded.
  const catalog = useQuery<{ locale: Locale; messages: Messages }>({
    queryKey: ["messages", locale],
    queryFn: async () => ({ locale, messages: await loadMessages(locale) }),
    staleTime: Number.POSITIVE_INFINITY,
    placeholderData: (previous) => previous,
  });
  if (!catalog.data) return null;
  document.documentElement.lang = catalog.data.locale;
  document.documentElement.dir = textDirection(catalog.data.locale);
  return (
    <IntlProvider
      locale={catalog.data.locale}
      messages={catalog.data.messages}
      timeZone={Intl.DateTimeFormat().resolvedOptions().timeZone}
    >
      {children}
    </IntlProvider>
  );
}
