import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  defaultLocale,
  isLocale,
  isRtl,
  loadMessages,
  localeNames,
  locales,
  textDirection,
} from "../src/index";
import { catalogProblems, flatten } from "./catalogProblems";
import { icuArguments } from "./icu";

const messagesDir = fileURLToPath(new URL("../messages/", import.meta.url));

function readCatalog(locale: string): Record<string, unknown> {
  return JSON.parse(readFileSync(`${messagesDir}${locale}.json`, "utf8"));
}

const en = readCatalog("en");

/** Keys whose value is the same in every language (the product name, a symbol-only string). */
const universalKeys = new Set(["Common.appName", "Common.footer.copyright"]);

/** Whether a message has a word to translate outside its placeholders ("{value}/s" has none). */
function hasWords(message: string): boolean {
  let text = message;
  for (let previous = ""; previous !== text; ) {
    previous = text;
    text = text.replace(/\{[^{}]*\}/g, "");
  }
  return /\p{L}{2,}/u.test(text);
}

describe("the locale list", () => {
  it("has exactly one catalog file per locale, and no orphan files", () => {
    const files = readdirSync(messagesDir)
      .filter((file) => file.endsWith(".json"))
      .map((file) => file.replace(/\.json$/, ""));
    expect(files.sort()).toEqual([...locales].sort());
  });

  it("starts from English and names every language in that language", () => {
    expect(defaultLocale).toBe("en");
    expect(locales).toContain(defaultLocale);
    expect(Object.keys(localeNames).sort()).toEqual([...locales].sort());
    expect(new Set(Object.values(localeNames)).size).toBe(locales.length);
  });

  it("writes Arabic right to left and everything else left to right", () => {
    expect(locales.filter(isRtl)).toEqual(["ar"]);
    expect(textDirection("ar")).toBe("rtl");
    expect(textDirection("pt-BR")).toBe("ltr");
  });

  it("recognises only the supported locales", () => {
    expect(isLocale("zh-TW")).toBe(true);
    expect(isLocale("zh")).toBe(false);
    expect(isLocale("EN")).toBe(false);
    expect(isLocale(undefined)).toBe(false);
  });
});

describe("the catalog checker", () => {
  const source = {
    A: { hello: "Hello {name}", count: "{n, plural, one {# item} other {# items}}" },
  };

  it("accepts a complete translation", () => {
    const de = { A: { hello: "Hallo {name}", count: "{n, plural, one {# Ding} other {# Dinge}}" } };
    expect(catalogProblems(source, de)).toEqual([]);
  });

  it("reports missing, extra and empty keys", () => {
    const broken = { A: { hello: " ", extra: "x" } };
    expect(catalogProblems(source, broken)).toEqual([
      "A.count: missing",
      "A.hello: empty",
      "A.extra: not in the source catalog",
    ]);
  });

  it("reports renamed placeholders and broken ICU syntax", () => {
    const broken = { A: { hello: "Hallo {nom}", count: "{n, plural, one {# Ding}" } };
    const problems = catalogProblems(source, broken);
    expect(problems[0]).toBe("A.hello: placeholders {nom} differ from {name}");
    expect(problems[1]).toMatch(/^A\.count: /);
  });

  it("reads argument names inside plural branches and requires an other branch", () => {
    expect([...icuArguments("{a} {n, plural, =0 {none} other {# by {who}}}")].sort()).toEqual([
      "a",
      "n",
      "who",
    ]);
    expect(() => icuArguments("{n, plural, one {#}}")).toThrow(/other/);
    expect(() => icuArguments("a } b")).toThrow();
  });
});

describe.each(locales)("the %s catalog", (locale) => {
  const catalog = readCatalog(locale);

  it("has exactly the keys of English, none empty, with the same placeholders", () => {
    expect(catalogProblems(en, catalog)).toEqual([]);
  });

  it("is what loadMessages returns", async () => {
    await expect(loadMessages(locale)).resolves.toEqual(catalog);
  });
});

const translations = locales.filter((locale) => locale !== defaultLocale);

describe.each(translations)("the %s translation", (locale) => {
  const catalog = readCatalog(locale);

  it("is translated, not copied from English", () => {
    const english = flatten(en);
    const copied = [...flatten(catalog)].filter(
      ([key, value]) => !universalKeys.has(key) && hasWords(value) && english.get(key) === value,
    );
    // A few loanwords ("Laptop", "Offline") legitimately match; a copied catalog does not.
    expect(copied.length, copied.map(([key]) => key).join(", ")).toBeLessThanOrEqual(3);
  });
});

describe("register", () => {
  const de = [...flatten(readCatalog("de"))];

  it("German addresses the reader formally (Sie) everywhere, never with du/dein/euch", () => {
    const informal = /\b(du|dich|dir|dein\w*|euch|euer|eure\w*)\b/i;
    const offenders = de
      .filter(([, text]) => informal.test(String(text)))
      .map(([key, text]) => `${key}: ${text}`);
    expect(offenders).toEqual([]);
  });

  it("German uses no informal imperatives (Melde dich, Erstelle, Öffne, Versuche, Füge, Bleib …)", () => {
    const imperative =
      /\b(Melde|Erstelle|Öffne|Ändere|Lege|Arbeite|Wähle|Gib|Klicke|Schließe|Starte|Prüfe|Bring|Warte|Versuche es|Füge|Bleib|Wechsle|wechsle|Ziehe|Benenne|Lösche|Behalte|Speichere)\b/;
    const offenders = de
      .filter(([, text]) => imperative.test(String(text)))
      .map(([key, text]) => `${key}: ${text}`);
    expect(offenders).toEqual([]);
  });
});
