import type en from "../messages/en.json";
import type { Locale } from "./locales";

/** The shape of every catalog; English is the source of truth. */
export type Messages = typeof en;

/**
 * One static import per catalog: bundlers (Next, Vite) can split them, and the
 * compiler checks every catalog against the English shape.
 */
const catalogs: Record<Locale, () => Promise<{ default: Messages }>> = {
  en: () => import("../messages/en.json"),
  ar: () => import("../messages/ar.json"),
  de: () => import("../messages/de.json"),
  es: () => import("../messages/es.json"),
  fr: () => import("../messages/fr.json"),
  hi: () => import("../messages/hi.json"),
  id: () => import("../messages/id.json"),
  it: () => import("../messages/it.json"),
  ja: () => import("../messages/ja.json"),
  ko: () => import("../messages/ko.json"),
  nl: () => import("../messages/nl.json"),
  pt: () => import("../messages/pt.json"),
  "pt-BR": () => import("../messages/pt-BR.json"),
  ru: () => import("../messages/ru.json"),
  tr: () => import("../messages/tr.json"),
  "zh-CN": () => import("../messages/zh-CN.json"),
  "zh-TW": () => import("../messages/zh-TW.json"),
};

export async function loadMessages(locale: Locale): Promise<Messages> {
  const catalog = await catalogs[locale]();
  return catalog.default;
}
