"use client";

import { useQuery } from "@tanstack/react-query";
import { useFormatter, useLocale, useTranslations } from "next-intl";
import { Panel } from "@/components/ui/Panel";
import { formatBytes, formatDuration } from "@/lib/format-duration";
import { useTRPC } from "@/lib/trpc";
import { CompactionControl } from "./CompactionControl";
import styles from "./console.module.css";
import { QueryState } from "./QueryProblem";
import type { CompactionProgress } from "./types";

/** The history of compaction runs (nightly and on demand), newest first; run one for all. */
export function CompactionRunsPanel({
  progress,
  signInHref,
}: {
  progress: CompactionProgress | null;
  signInHref: string;
}) {
  const t = useTranslations("Console.runs");
  const format = useFormatter();
  const locale = useLocale();
  const trpc = useTRPC();
  const runs = useQuery(trpc.admin.compactionRuns.queryOptions({ limit: 20 }));

  return (
    <Panel title={t("title")} subtitle={t("subtitle")} testId="compaction-runs">
      <CompactionControl progress={progress} label={t("runAll")} testId="all-compaction" />
      <QueryState
        query={runs}
        signInHref={signInHref}
        isEmpty={(list) => list.length === 0}
        empty={
          <p className={styles.empty} data-testid="compaction-runs-empty">
            {t("empty")}
          </p>
        }
      >
        {(list) => (
          <div className={styles.tableWrap}>
            <table className={styles.table}>
              <thead>
                <tr>
                  <th scope="col">{t("columns.started")}</th>
                  <th scope="col">{t("columns.trigger")}</th>
                  <th scope="col">{t("columns.outcome")}</th>
                  <th scope="col" className={styles.num}>
                    {t("columns.users")}
                  </th>
                  <th scope="col" className={styles.num}>
                    {t("columns.opsDeleted")}
                  </th>
                  <th scope="col" className={styles.num}>
                    {t("columns.bytesFreed")}
                  </th>
                  <th scope="col" className={styles.num}>
                    {t("columns.duration")}
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((run) => (
                  <tr
                    key={run.id}
                    data-testid="compaction-run"
                    data-run-id={run.id}
                    data-outcome={run.outcome}
                  >
                    <td>
                      {format.dateTime(new Date(run.startedAt), {
                        dateStyle: "medium",
                        timeStyle: "medium",
                      })}
                    </td>
                    <td>
                      {t(`trigger.${run.trigger}`)}
                      {run.dryRun ? <span className={styles.tag}>{t("dryRun")}</span> : null}
                    </td>
                    <td>
                      <span className={styles.pill} data-tone={run.outcome} title={run.error ?? ""}>
                        {t(`outcome.${run.outcome}`)}
                      </span>
                    </td>
                    <td className={styles.num}>{format.number(run.usersProcessed)}</td>
                    <td className={styles.num}>{format.number(run.opsDeleted)}</td>
                    <td className={styles.num}>{formatBytes(run.bytesFreed, locale)}</td>
                    <td className={styles.num}>
                      {run.finishedAt
                        ? formatDuration(
                            Date.parse(run.finishedAt) - Date.parse(run.startedAt),
                            locale,
                          )
                        : "—"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
    </Panel>
  );
}
