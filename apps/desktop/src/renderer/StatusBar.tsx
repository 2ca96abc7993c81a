import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useLocale, useTranslations } from "use-intl";
import type { PushReport } from "../shared/ipc-schemas.js";
import { queryKeys, unwrap } from "./bridge.js";
import { useErrorText } from "./errors.js";
import { useDiagnostics, useNavigate } from "./navigation.js";
import { relativeTime, type SyncStatus, syncStatus } from "./sync-status.js";

/** The status sentence, in the user's language. */
export function useStatusText() {
  const t = useTranslations("Desktop.status");
  const locale = useLocale();
  return (status: SyncStatus): string => {
    switch (status.kind) {
      case "synced":
        return status.at
          ? t("synced", { when: relativeTime(status.at, locale) })
          : t("syncedNever");
      case "resyncing":
        return t("resyncing");
      case "update_required":
        return t("update_required");
      case "locked":
        return t("locked");
      default:
        return t(status.kind, { count: status.pending });
    }
  };
}

/** "Sync now": uploads at once, then says what happened. */
export function useSyncNow() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(window.chorus.pushNow()),
    onSuccess: (report) => queryClient.setQueryData(queryKeys.diagnostics, report.diagnostics),
  });
}

export function useSyncReportText() {
  const t = useTranslations("Desktop.syncNow");
  const say = useErrorText();
  return (report: PushReport | undefined, error: Error | null): string | null => {
    if (error) return say(error);
    if (!report) return null;
    const waiting = report.diagnostics.pendingCount;
    switch (report.outcome) {
      case "uploaded":
        return t("uploaded", { count: report.pushed });
      case "up_to_date":
        return t("upToDate");
      case "failed":
        return report.failure === "offline"
          ? t("offline", { count: waiting })
          : t("failed", { count: waiting });
      case "not_syncing":
        return t("notSyncing");
    }
  };
}

/** Always in view (the header is sticky): the state of sync and the one thing to do about it. */
export function StatusBar() {
  const t = useTranslations("Desktop");
  const diagnostics = useDiagnostics();
  const navigate = useNavigate();
  const statusText = useStatusText();
  const syncNow = useSyncNow();
  const reportText = useSyncReportText();
  if (!diagnostics.data) return null;
  const status = syncStatus(diagnostics.data);
  const report = reportText(syncNow.data, syncNow.error);

  const action = (() => {
    switch (status.kind) {
      case "local":
        return { label: t("status.action.setUp"), run: () => navigate("settings") };
      case "not_signed_in":
        return { label: t("status.action.signIn"), run: () => navigate("settings") };
      case "signed_out":
        return { label: t("status.action.signInAgain"), run: () => navigate("settings") };
      case "locked":
        return { label: t("status.action.enterPassword"), run: () => navigate("settings") };
      case "connecting":
      case "resyncing":
      case "update_required":
        return { label: t("status.action.details"), run: () => navigate("diagnostics") };
      case "offline":
        return { label: t("status.action.retry"), run: () => syncNow.mutate() };
      default:
        return { label: t("status.action.syncNow"), run: () => syncNow.mutate() };
    }
  })();

  return (
    <div className="status" data-testid="sync-status" data-status={status.kind}>
      <span className="profile">{t("header.profile", { name: diagnostics.data.profile })}</span>
      <span className="status-text" data-testid="sync-status-text">
        <span className="dot" aria-hidden="true" />
        {statusText(status)}
      </span>
      <button
        type="button"
        data-testid="sync-status-action"
        onClick={action.run}
        disabled={syncNow.isPending}
      >
        {action.label}
      </button>
      <span className="sync-report" aria-live="polite" data-testid="sync-report">
        {syncNow.isPending ? t("syncNow.running") : report}
      </span>
    </div>
  );
}

/** When sync needs the user: signed out on this computer (revoked on the web, or expired). */
export function SignedOutBanner() {
  const t = useTranslations("Desktop.banner");
  const diagnostics = useDiagnostics();
  const navigate = useNavigate();
  if (!diagnostics.data || syncStatus(diagnostics.data).kind !== "signed_out") return null;
  const { pendingCount } = diagnostics.data;
  return (
    <section className="banner" role="alert" data-testid="signed-out-banner">
      <p>
        <strong>{t("signedOutTitle")}</strong> {t("signedOutBody", { count: pendingCount })}
      </p>
      <button type="button" className="primary" onClick={() => navigate("settings")}>
        {t("signInAgain")}
      </button>
    </section>
  );
}
