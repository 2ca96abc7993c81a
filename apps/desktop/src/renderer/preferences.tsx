import { isLocale, type Locale } from "@chorus/i18n";
import { createContext, type ReactNode, useContext, useEffect, useMemo, useState } from "react";

/** "system" follows the operating system; the others override it. */
export type ThemeChoice = "system" | "light" | "dark";
export type LocaleChoice = "system" | Locale;

export interface Preferences {
  locale: LocaleChoice;
  theme: ThemeChoice;
  setLocale(locale: LocaleChoice): void;
  setTheme(theme: ThemeChoice): void;
}

/*
 * The app's own choices (language, theme), kept in the renderer's localStorage: they belong
 * to this computer's window, not to a profile or an account, and must apply before the
 * engine answers anything.
 */
const KEYS = { locale: "chorus.locale", theme: "chorus.theme" } as const;

function read(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string): void {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // Storage can be unavailable; the choice then lasts until the window closes.
  }
}

export function storedLocale(): LocaleChoice {
  const value = read(KEYS.locale);
  return isLocale(value) ? value : "system";
}

export function storedTheme(): ThemeChoice {
  const value = read(KEYS.theme);
  return value === "light" || value === "dark" ? value : "system";
}

const PreferencesContext = createContext<Preferences | null>(null);

export function PreferencesProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<LocaleChoice>(storedLocale);
  const [theme, setThemeState] = useState<ThemeChoice>(storedTheme);
  useEffect(() => {
    const root = document.documentElement;
    if (theme === "system") delete root.dataset.theme;
    else root.dataset.theme = theme;
  }, [theme]);
  const value = useMemo<Preferences>(
    () => ({
      locale,
      theme,
      setLocale: (next) => {
        write(KEYS.locale, next);
        setLocaleState(next);
      },
      setTheme: (next) => {
        write(KEYS.theme, next);
        setThemeState(next);
      },
    }),
    [locale, theme],
  );
  return <PreferencesContext.Provider value={value}>{children}</PreferencesContext.Provider>;
}

export function usePreferences(): Preferences {
  const preferences = useContext(PreferencesContext);
  if (!preferences) throw new Error("usePreferences outside PreferencesProvider");
  return preferences;
}
