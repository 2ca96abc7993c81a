import type { Locale } from "@chorus/i18n";
import { notFound } from "next/navigation";
import { hasLocale } from "next-intl";
import { setRequestLocale } from "next-intl/server";
import { routing } from "@/i18n/routing";

export type LocaleParams = { params: Promise<{ locale: string }> };
export type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** The page's locale, validated and registered with next-intl; unknown locales are a 404. */
export async function pageLocale(params: LocaleParams["params"]): Promise<Locale> {
  const { locale } = await params;
  if (!hasLocale(routing.locales, locale)) notFound();
  setRequestLocale(locale);
  return locale;
}

export function firstParam(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}
