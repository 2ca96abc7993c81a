import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { useTranslations } from "use-intl";
import { queryKeys } from "./bridge.js";
import { FirstRun, useFirstRun } from "./FirstRun.js";
import { NavigateContext, type Page } from "./navigation.js";
import { DiagnosticsPage } from "./pages/DiagnosticsPage.js";
import { LibraryPage } from "./pages/LibraryPage.js";
import { SettingsPage } from "./pages/SettingsPage.js";
import { SignedOutBanner, StatusBar } from "./StatusBar.js";
import { UndoProvider } from "./undo.js";

export function App() {
  const t = useTranslations("Desktop");
  const [page, setPage] = useState<Page>("library");
  const queryClient = useQueryClient();
  const firstRun = useFirstRun();
  const navigate = useCallback((next: Page) => {
    setPage(next);
    // The new page's heading takes focus, so keyboard and screen-reader users land there.
    requestAnimationFrame(() => document.querySelector<HTMLElement>("main h1")?.focus());
  }, []);
  const refresh = useCallback(() => {
    void queryClient.invalidateQueries({ queryKey: queryKeys.library });
    void queryClient.invalidateQueries({ queryKey: queryKeys.diagnostics });
  }, [queryClient]);
  const focusMain = useCallback(() => document.querySelector<HTMLElement>("main h1")?.focus(), []);

  if (firstRun.show) {
    return (
      <div className="shell">
        <main className="first-run-main">
          <FirstRun onDone={firstRun.done} />
        </main>
      </div>
    );
  }

  return (
    <NavigateContext.Provider value={navigate}>
      <UndoProvider onCommitted={refresh} afterClose={focusMain}>
        <div className="shell">
          <header className="topbar">
            <strong className="brand">Chorus</strong>
            <nav aria-label={t("nav.label")}>
              {(["library", "settings", "diagnostics"] as const).map((name) => (
                <button
                  key={name}
                  type="button"
                  className="tab"
                  aria-current={page === name ? "page" : undefined}
                  onClick={() => navigate(name)}
                >
                  {t(`nav.${name}`)}
                </button>
              ))}
            </nav>
            <StatusBar />
          </header>
          <main>
            <SignedOutBanner />
            {page === "library" && <LibraryPage />}
            {page === "settings" && <SettingsPage />}
            {page === "diagnostics" && <DiagnosticsPage />}
          </main>
        </div>
      </UndoProvider>
    </NavigateContext.Provider>
  );
}
