/**
 * The languages Chorus ships in. Order is the order of the language switcher;
 * every locale here must have a catalog in messages/<locale>.json.
 */
export const locales = [
  "en",
  "ar",
  "de",
  "es",
  "fr",
  "hi",
  "id",
  "it",
  "ja",
  "ko",
  "nl",
  "pt",
  "pt-BR",
  "ru",
  "tr",
  "zh-CN",
  "zh-TW",
] as const;

export type Locale = (typeof locales)[number];

export const defaultLocale = "en" satisfies Locale;

/** Each language's name in that language, for the language switcher. */
export const localeNames: Readonly<Record<Locale, string>> = {
  en: "English",
  ar: "العربية",
  de: "Deutsch",
  es: "Español",
  fr: "Français",
  hi: "हिन्दी",
  id: "Bahasa Indonesia",
  it: "Italiano",
  ja: "日本語",
  ko: "한국어",
  nl: "Nederlands",
  pt: "Português (Portugal)",
  "pt-BR": "Português (Brasil)",
  ru: "Русский",
  tr: "Türkçe",
  "zh-CN": "简体中文",
  "zh-TW": "繁體中文",
};

const rtlLocales: ReadonlySet<Locale> = new Set<Locale>(["ar"]);

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (locales as readonly string[]).includes(value);
}

export function isRtl(locale: Locale): boolean {
  return rtlLocales.has(locale);
}

export function textDirection(locale: Locale): "ltr" | "rtl" {
  return isRtl(locale) ? "rtl" : "ltr";
}
