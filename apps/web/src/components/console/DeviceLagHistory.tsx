"use client";

import { useQuery } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { LagChart } from "./LagChart";

/**
 * One device's lag over time as the server sampled it (kept for 30 days, so it survives a
 * reload of the console), in the same chart as the session's lag.
 */
export function DeviceLagHistory({ deviceId, name }: { deviceId: string; name: string }) {
  const t = useTranslations("Diagnosis.lagHistory");
  const trpc = useTRPC();
  const history = useQuery(trpc.admin.lagHistory.queryOptions({ deviceId, limit: 500 }));
  const samples = (history.data ?? []).map((s) => ({
    at: Date.parse(s.at),
    ops: s.opsBehind,
    ms: s.cursorAgeMs,
  }));
  const newest = samples.at(-1)?.at ?? 0;
  return (
    <LagChart
      series={[{ deviceId, name, samples }]}
      now={Math.max(newest, history.dataUpdatedAt)}
      text={{ title: t("title"), note: null, empty: t("empty") }}
      testId="device-lag-history"
    />
  );
}
