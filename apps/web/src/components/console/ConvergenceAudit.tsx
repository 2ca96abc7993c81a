"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useFormatter, useLocale, useTranslations } from "next-intl";
import { formatDateTime } from "@/lib/format-time";
import { useTRPC } from "@/lib/trpc";
import styles from "./console.module.css";

type Side = { value: string; lamportTs: number | null; deviceId: string | null } | null;

/**
 * The convergence audit of one device: its newest result (a match, or the first entity and
 * field where the device and the server's log differ, with both values), and a button that
 * asks the device to run one (it does at its next report, within a minute while online).
 */
export function ConvergenceAudit({ deviceId }: { deviceId: string }) {
  const t = useTranslations("Diagnosis.convergence");
  const format = useFormatter();
  const locale = useLocale();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const audits = useQuery({
    ...trpc.admin.convergenceAudits.queryOptions({ deviceId, limit: 1 }),
    // While the device has not answered a request yet, look again every few seconds.
    refetchInterval: (query) => (query.state.data?.requestedAt ? 3_000 : false),
  });
  const request = useMutation(
    trpc.admin.requestConvergenceAudit.mutationOptions({
      onSettled: () =>
        queryClient.invalidateQueries({ queryKey: trpc.admin.convergenceAudits.pathKey() }),
    }),
  );
  const latest = audits.data?.audits[0];
  const side = (s: Side) =>
    s === null
      ? t("absent")
      : s.lamportTs === null
        ? s.value
        : `${s.value} · ${format.number(s.lamportTs)}`;
  const difference = latest?.outcome === "mismatch" ? latest.firstDifference : null;

  return (
    <section
      className={styles.audit}
      aria-label={t("title")}
      data-testid="console-convergence"
      data-outcome={latest?.outcome ?? "none"}
    >
      <h3 className={styles.auditTitle}>{t("title")}</h3>
      <p data-testid="convergence-result">
        {latest === undefined
          ? t("none")
          : latest.outcome === "match"
            ? t("match", {
                cursor: latest.cursor,
                time: formatDateTime(new Date(latest.at), locale),
              })
            : latest.outcome === "mismatch"
              ? t("mismatch", {
                  cursor: latest.cursor,
                  time: formatDateTime(new Date(latest.at), locale),
                })
              : t("notComparable", { reason: latest.reason ?? "other" })}
      </p>
      {difference ? (
        <dl className={styles.auditDifference} data-testid="convergence-difference">
          <dt>{t("where")}</dt>
          <dd className="ltr-value">
            {difference.entity} {difference.entityId}
            {difference.field === null ? "" : ` · ${difference.field}`}
          </dd>
          <dt>{t("deviceValue")}</dt>
          <dd className="ltr-value" data-testid="convergence-device-value">
            {side(difference.device)}
          </dd>
          <dt>{t("serverValue")}</dt>
          <dd className="ltr-value" data-testid="convergence-server-value">
            {side(difference.server)}
          </dd>
        </dl>
      ) : null}
      {audits.data?.requestedAt ? (
        <p data-testid="convergence-requested">{t("requested")}</p>
      ) : (
        <button
          type="button"
          className="button button--small"
          disabled={request.isPending}
          onClick={() => request.mutate({ deviceId })}
          data-testid="console-convergence-request"
        >
          {t("request")}
        </button>
      )}
      {request.isError ? (
        <p className="field__error" role="alert">
          {t("failed")}
        </p>
      ) : null}
    </section>
  );
}
