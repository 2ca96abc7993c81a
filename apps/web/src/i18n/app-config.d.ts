import type { Locale, Messages } from "@chorus/i18n";

// Types next-intl's locale and message keys: t("Landing.hero.titel") fails to compile.
declare module "next-intl" {
  interface AppConfig {
    Locale: Locale;
    Messages: Messages;
  }
}
