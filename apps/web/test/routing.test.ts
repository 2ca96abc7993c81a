import { defaultLocale, locales, textDirection } from "@chorus/i18n";
import { describe, expect, it } from "vitest";
import { routing } from "@/i18n/routing";

describe("locale routing", () => {
  it("serves exactly the locales that have catalogs in @chorus/i18n", () => {
    expect([...routing.locales].sort()).toEqual([...locales].sort());
    expect(routing.locales).toHaveLength(17);
  });

  it("defaults to English and always prefixes the locale", () => {
    expect(routing.defaultLocale).toBe(defaultLocale);
    expect(routing.defaultLocale).toBe("en");
    expect(routing.localePrefix).toBe("always");
  });

  it("lays out Arabic right to left and the other locales left to right", () => {
    const rtl = routing.locales.filter((locale) => textDirection(locale) === "rtl");
    expect(rtl).toEqual(["ar"]);
  });
});
