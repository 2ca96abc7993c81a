import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslations } from "use-intl";
import { LIVE_REFETCH_MS, queryKeys, unwrap } from "./bridge.js";
import { DiagnosticsPage } from "./pages/DiagnosticsPage.js";
import { LibraryPage } from "./pages/LibraryPage.js";
import { SettingsPage } from "./pages/SettingsPage.js";

type Page = "library" | "settings" | "diagnostics";

export function App() {
  const t = useTranslations("Desktop");
  const [page, setPage] = useState<Page>("library");
  return (
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
              onClick={() => setPage(name)}
            >
              {t(`nav.${name}`)}
            </button>
          ))}
        </nav>
        <SyncBadge />
      </header>
      <main>
        {page === "library" && <LibraryPage />}
        {page === "settings" && <SettingsPage />}
        {page === "diagnostics" && <DiagnosticsPage />}
      </main>
    </div>
  );
}

/** Profile, connection and queue at a glance, on every page. */
function SyncBadge() {
  const t = useTranslations("Desktop");
  const diagnostics = useQuery({
    queryKey: queryKeys.diagnostics,
    queryFn: () => unwrap(window.chorus.getDiagnostics()),
    refetchInterval: LIVE_REFETCH_MS,
  });
  if (!diagnostics.data) return null;
  const { profile, connection, pendingCount } = diagnostics.data;
  return (
    <p className="badge" data-connection={connection} aria-live="polite">
      <span>{t("header.profile", { name: profile })}</span>
      <span>{t(`connection.${connection}`)}</span>
      <span>{t("header.pending", { count: pendingCount })}</span>
    </p>
  );
}
