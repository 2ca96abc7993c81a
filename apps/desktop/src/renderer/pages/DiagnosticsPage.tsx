import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslations } from "use-intl";
import { LIVE_REFETCH_MS, queryKeys, unwrap } from "../bridge.js";

export function DiagnosticsPage() {
  const t = useTranslations("Desktop");
  const queryClient = useQueryClient();
  const diagnostics = useQuery({
    queryKey: queryKeys.diagnostics,
    queryFn: () => unwrap(window.chorus.getDiagnostics()),
    refetchInterval: LIVE_REFETCH_MS,
  });
  const refresh = (data: unknown) => queryClient.setQueryData(queryKeys.diagnostics, data);
  const pushNow = useMutation({
    mutationFn: () => unwrap(window.chorus.pushNow()),
    onSuccess: refresh,
  });
  const clear = useMutation({
    mutationFn: () => unwrap(window.chorus.clearLastError()),
    onSuccess: refresh,
  });
  const d = diagnostics.data;

  return (
    <section aria-labelledby="diagnostics-heading">
      <h1 id="diagnostics-heading">{t("diagnostics.title")}</h1>
      {diagnostics.isError && <p role="alert">{diagnostics.error.message}</p>}
      {d && (
        <dl>
          <dt>{t("diagnostics.deviceId")}</dt>
          <dd>
            <code>{d.deviceId}</code>
          </dd>
          <dt>{t("diagnostics.mode")}</dt>
          <dd>{t(`settings.mode.${d.mode}`)}</dd>
          <dt>{t("diagnostics.connection")}</dt>
          <dd data-testid="connection">{t(`connection.${d.connection}`)}</dd>
          <dt>{t("diagnostics.account")}</dt>
          <dd>{d.account ? (d.account.email ?? d.account.userId) : t("diagnostics.none")}</dd>
          <dt>{t("diagnostics.lamport")}</dt>
          <dd>{d.lamport}</dd>
          <dt>{t("diagnostics.pending")}</dt>
          <dd data-testid="pending-count">{d.pendingCount}</dd>
          <dt>{t("diagnostics.oldest")}</dt>
          <dd>
            {d.oldestPendingAgeMs === null
              ? t("diagnostics.none")
              : t("diagnostics.age", { seconds: Math.round(d.oldestPendingAgeMs / 1000) })}
          </dd>
          <dt>{t("diagnostics.cursor")}</dt>
          <dd>{d.cursor}</dd>
          <dt>{t("diagnostics.lastError")}</dt>
          <dd>
            {d.lastError ? (
              <>
                <code>{d.lastError.code}</code> {d.lastError.message}{" "}
                <time dateTime={d.lastError.at}>{new Date(d.lastError.at).toLocaleString()}</time>
              </>
            ) : (
              t("diagnostics.noError")
            )}
          </dd>
          <dt>{t("diagnostics.quarantined")}</dt>
          <dd data-testid="quarantined-count">
            {d.quarantinedCount}
            {d.quarantined.length > 0 && (
              <ul>
                {d.quarantined.map((q) => (
                  <li key={q.operationId}>
                    <code>
                      {q.entity} {q.entityId}
                      {q.field ? `.${q.field}` : ""}
                    </code>{" "}
                    {q.reason}
                  </li>
                ))}
              </ul>
            )}
          </dd>
          {d.resync && (
            <>
              <dt>{t("diagnostics.resync")}</dt>
              <dd>{t(`diagnostics.resyncPhase.${d.resync.phase}`, { done: d.resync.done })}</dd>
            </>
          )}
        </dl>
      )}
      <div className="row">
        <button type="button" onClick={() => pushNow.mutate()} disabled={pushNow.isPending}>
          {t("diagnostics.pushNow")}
        </button>
        <button type="button" onClick={() => clear.mutate()} disabled={!d?.lastError}>
          {t("diagnostics.clearError")}
        </button>
      </div>
      {pushNow.isError && <p role="alert">{pushNow.error.message}</p>}
    </section>
  );
}
