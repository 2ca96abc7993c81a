import { textDirection } from "@chorus/i18n";
import type { Metadata, Viewport } from "next";
import { notFound } from "next/navigation";
import { hasLocale, NextIntlClientProvider } from "next-intl";
import { getMessages, getTranslations, setRequestLocale } from "next-intl/server";
import type { ReactNode } from "react";
import { SiteFooter } from "@/components/SiteFooter";
import { SiteHeader } from "@/components/SiteHeader";
import { routing } from "@/i18n/routing";
import "@/styles/globals.css";

type LocaleLayoutProps = {
  children: ReactNode;
  params: Promise<{ locale: string }>;
};

export function generateStaticParams() {
  return routing.locales.map((locale) => ({ locale }));
}

export async function generateMetadata({ params }: LocaleLayoutProps): Promise<Metadata> {
  const { locale } = await params;
  if (!hasLocale(routing.locales, locale)) return {};
  const t = await getTranslations({ locale, namespace: "Metadata" });
  const appName = (await getTranslations({ locale, namespace: "Common" }))("appName");
  return {
    title: { default: t("title"), template: `%s · ${appName}` },
    description: t("description"),
    applicationName: "Chorus",
  };
}

export const viewport: Viewport = {
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#f7f6fc" },
    { media: "(prefers-color-scheme: dark)", color: "#12111c" },
  ],
};

export default async function LocaleLayout({ children, params }: LocaleLayoutProps) {
  const { locale } = await params;
  if (!hasLocale(routing.locales, locale)) notFound();
  // Lets next-intl's server APIs know the locale during static rendering.
  setRequestLocale(locale);

  const messages = await getMessages();
  const t = await getTranslations("Common");

  return (
    <html lang={locale} dir={textDirection(locale)}>
      <body>
        {/* Client code (the switcher, next-intl's Link) needs the locale everywhere, but
            only the shared strings: page copy stays on the server. */}
        <NextIntlClientProvider messages={{ Common: messages.Common }}>
          <a className="skip-link" href="#main">
            {t("skipToContent")}
          </a>
          <SiteHeader />
          <main id="main">{children}</main>
          <SiteFooter />
        </NextIntlClientProvider>
      </body>
    </html>
  );
}
