import { defaultLocale, locales } from "@chorus/i18n";
import { defineRouting } from "next-intl/routing";

/** Every page lives under a locale prefix (/en, /ar, …); "/" redirects to the best match. */
export const routing = defineRouting({
  locales,
  defaultLocale,
  localePrefix: "always",
});
