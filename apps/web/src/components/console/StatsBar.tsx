"use client";

import { useQuery } from "@tanstack/react-query";
import { useFormatter, useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import styles from "./console.module.css";

/** Totals at a glance: each is one page of one row, so only counts cross the wire. */
export function StatsBar() {
  const t = useTranslations("Console.stats");
  const format = useFormatter();
  const trpc = useTRPC();
  const users = useQuery(trpc.admin.users.queryOptions({ pageSize: 1 }));
  const all = useQuery(trpc.admin.devices.queryOptions({ pageSize: 1 }));
  const online = useQuery(trpc.admin.devices.queryOptions({ pageSize: 1, status: "online" }));
  const stale = useQuery(trpc.admin.devices.queryOptions({ pageSize: 1, status: "stale" }));
  const stats = [
    { key: "users", value: users.data?.total },
    { key: "devices", value: all.data?.total },
    { key: "online", value: online.data?.total },
    { key: "stale", value: stale.data?.total },
  ] as const;
  return (
    <dl className={styles.stats}>
      {stats.map(({ key, value }) => (
        <div key={key} className={styles.stat} data-tone={key}>
          <dt>{t(key)}</dt>
          <dd className={styles.statValue} data-testid={`stat-${key}`} data-value={value ?? ""}>
            {value === undefined ? "…" : format.number(value)}
          </dd>
        </div>
      ))}
    </dl>
  );
}
