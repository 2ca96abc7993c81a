"use client";

import { useQuery } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { Panel } from "@/components/ui/Panel";
import { formatDateTime } from "@/lib/format-time";
import { useTRPC } from "@/lib/trpc";
import styles from "./console.module.css";
import { QueryState } from "./QueryProblem";

/** The audit log: which administrator ran which compaction (with its preview), who revoked what. */
export function AuditPanel({ signInHref }: { signInHref: string }) {
  const t = useTranslations("Diagnosis.audit");
  const locale = useLocale();
  const trpc = useTRPC();
  const audit = useQuery(trpc.admin.audit.queryOptions({ limit: 50 }));
  return (
    <Panel title={t("title")} subtitle={t("subtitle")} testId="console-audit">
      <QueryState
        query={audit}
        signInHref={signInHref}
        isEmpty={(rows) => rows.length === 0}
        empty={<p className={styles.state}>{t("empty")}</p>}
      >
        {(rows) => (
          <ul>
            {rows.map((row) => {
              const actor = row.actorEmail ?? row.actorId;
              const target = row.targetEmail ?? row.targetUserId ?? t("everyone");
              const preview = Array.isArray(row.details.preview) ? row.details.preview : [];
              return (
                <li
                  key={row.id}
                  data-testid="audit-entry"
                  data-action={row.action}
                  data-target-device-id={row.targetDeviceId ?? ""}
                >
                  <time dateTime={row.at}>{formatDateTime(new Date(row.at), locale)}</time>{" "}
                  {row.action === "device_revoked"
                    ? t("revoked", {
                        actor,
                        device: row.targetDeviceName ?? row.targetDeviceId ?? "—",
                        target,
                      })
                    : t("compaction", {
                        actor,
                        dryRun: String(row.details.dryRun === true),
                        target,
                        outcome: String(row.details.outcome ?? "—"),
                        count: preview.length,
                      })}
                </li>
              );
            })}
          </ul>
        )}
      </QueryState>
    </Panel>
  );
}
