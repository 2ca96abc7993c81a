import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useFormatter, useLocale, useTranslations } from "use-intl";
import { queryKeys, unwrap } from "../bridge.js";
import { useDiagnostics } from "../navigation.js";
import { Outbox } from "../Outbox.js";
import { useStatusText, useSyncNow, useSyncReportText } from "../StatusBar.js";
import { currentError, relativeTime, syncStatus } from "../sync-status.js";

/** What a failure code means for a person (the engine's own text stays in the details). */
const PROBLEM_KEYS: Record<string, string> = {
  offline: "offline",
  unauthorized: "unauthorized",
  server: "server",
};

/**
 * Sync diagnostics, people first: is it syncing, with which server, when it last did, what
 * is waiting (each queued change: what, how old, failed attempts) and what went wrong (each
 * refused change with the reason); the engine's internals (device id, Lamport clock, cursor)
 * below, under Technical details.
 */
export function DiagnosticsPage() {
  const t = useTranslations("Desktop.diagnostics");
  const tMode = useTranslations("Desktop.settings.mode");
  const locale = useLocale();
  const format = useFormatter();
  const queryClient = useQueryClient();
  const diagnostics = useDiagnostics();
  const statusText = useStatusText();
  const syncNow = useSyncNow();
  const reportText = useSyncReportText();
  const clear = useMutation({
    mutationFn: () => unwrap(window.chorus.clearLastError()),
    onSuccess: (data) => queryClient.setQueryData(queryKeys.diagnostics, data),
  });
  const d = diagnostics.data;
  const problem = d ? currentError(d) : null;
  const report = reportText(syncNow.data, syncNow.error);
  const when = (iso: string) =>
    `${relativeTime(iso, locale)} (${format.dateTime(new Date(iso), {
      dateStyle: "medium",
      timeStyle: "short",
    })})`;

  return (
    <section aria-labelledby="diagnostics-heading" className="diagnostics">
      <h1 id="diagnostics-heading" tabIndex={-1}>
        {t("title")}
      </h1>
      {diagnostics.isError && (
        <p role="alert" className="error">
          {diagnostics.error.message}
        </p>
      )}
      {d && (
        <dl>
          <dt>{t("status")}</dt>
          <dd data-testid="diagnostics-status">
            {statusText(syncStatus(d))}
            {d.connection === "polling" && (
              <span className="muted" data-testid="polling-explained">
                {" "}
                {t("pollingExplained")}
              </span>
            )}
          </dd>
          <dt>{t("server")}</dt>
          <dd data-testid="diagnostics-server">
            {d.account ? (
              <>
                <span className="url">{d.account.syncUrl}</span>
                {d.account.webUrl && (
                  <span className="muted url"> {t("webAddress", { url: d.account.webUrl })}</span>
                )}
              </>
            ) : (
              t("noServer")
            )}
          </dd>
          <dt>{t("account")}</dt>
          <dd>{d.account ? (d.account.email ?? d.account.userId) : t("none")}</dd>
          <dt>{t("lastSync")}</dt>
          <dd data-testid="last-sync">{d.lastSyncAt ? when(d.lastSyncAt) : t("never")}</dd>
          <dt>{t("pending")}</dt>
          <dd data-testid="pending-count">
            {d.pendingCount === 0
              ? t("nothingWaiting")
              : t("waiting", {
                  count: d.pendingCount,
                  age: relativeTime(
                    new Date(Date.now() - (d.oldestPendingAgeMs ?? 0)).toISOString(),
                    locale,
                  ),
                })}
          </dd>
          <dt>{t("lastError")}</dt>
          <dd data-testid="last-error">
            {problem
              ? `${t(`problem.${PROBLEM_KEYS[problem.code] ?? "other"}`)} · ${when(problem.at)}`
              : d.lastError
                ? t("recovered", { when: when(d.lastError.at) })
                : t("noError")}
          </dd>
          <dt>{t("quarantined")}</dt>
          <dd data-testid="quarantined-count">{d.quarantinedCount}</dd>
          {d.resync && (
            <>
              <dt>{t("resync")}</dt>
              <dd>{t(`resyncPhase.${d.resync.phase}`, { done: d.resync.done })}</dd>
            </>
          )}
        </dl>
      )}
      {d && <Outbox diagnostics={d} />}
      <div className="row">
        <button
          type="button"
          className="primary"
          onClick={() => syncNow.mutate()}
          disabled={syncNow.isPending}
        >
          {t("pushNow")}
        </button>
        <button type="button" onClick={() => clear.mutate()} disabled={!d?.lastError}>
          {t("clearError")}
        </button>
      </div>
      <p aria-live="polite" data-testid="diagnostics-report">
        {report}
      </p>
      {d && (
        <details>
          <summary>{t("technical")}</summary>
          <dl>
            <dt>{t("profile")}</dt>
            <dd>{d.profile}</dd>
            <dt>{t("deviceId")}</dt>
            <dd>
              <code>{d.deviceId}</code>
            </dd>
            <dt>{t("mode")}</dt>
            <dd>{tMode(d.mode)}</dd>
            <dt>{t("connection")}</dt>
            <dd data-testid="connection">{d.connection}</dd>
            <dt>{t("lamport")}</dt>
            <dd>{d.lamport}</dd>
            <dt>{t("cursor")}</dt>
            <dd>{d.cursor}</dd>
            <dt>{t("errorDetail")}</dt>
            <dd>
              {d.lastError ? (
                <>
                  <code>{d.lastError.code}</code> <span className="url">{d.lastError.message}</span>
                </>
              ) : (
                t("noError")
              )}
            </dd>
          </dl>
        </details>
      )}
    </section>
  );
}
