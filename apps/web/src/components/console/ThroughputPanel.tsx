"use client";

import { useQuery } from "@tanstack/react-query";
import { useFormatter, useTranslations } from "next-intl";
import { useId, useState } from "react";
import { Panel } from "@/components/ui/Panel";
import { useTRPC } from "@/lib/trpc";
import { niceCeiling, stepPath } from "./chart-geometry";
import styles from "./console.module.css";
import { QueryState } from "./QueryProblem";

const WIDTH = 640;
const HEIGHT = 160;
const RANGES = [1, 30] as const;
type Range = (typeof RANGES)[number];
/** Pushed and delivered: the session chart's first two colours. */
const COLOURS = { pushed: "#6d5ff0", delivered: "#0f9d74" } as const;

/** The smallest round number at or above a rate (rates below 1/s included). */
function rateCeiling(peak: number): number {
  if (peak <= 0) return 1;
  if (peak >= 1) return niceCeiling(peak);
  const scale = 10 ** Math.ceil(-Math.log10(peak) + 1);
  return niceCeiling(peak * scale) / scale;
}

/**
 * Ops pushed and delivered per second, every replica together, as the server sampled them
 * (a point a minute for the last day, an hour before; kept 30 days): it survives a reload.
 */
export function ThroughputPanel({ signInHref }: { signInHref: string }) {
  const t = useTranslations("Diagnosis.throughput");
  const format = useFormatter();
  const trpc = useTRPC();
  const id = useId();
  const [days, setDays] = useState<Range>(1);
  const history = useQuery(trpc.admin.throughputHistory.queryOptions({ days }));
  const rate = (value: number) =>
    t("rate", { value: format.number(value, { maximumSignificantDigits: 3 }) });

  return (
    <Panel
      title={t("title")}
      subtitle={t("subtitle")}
      testId="console-throughput"
      actions={
        <fieldset className={styles.segmented}>
          <legend className="visually-hidden">{t("range")}</legend>
          {RANGES.map((value) => (
            <label
              key={value}
              data-checked={days === value || undefined}
              data-testid={`throughput-range-${value}`}
            >
              <input
                type="radio"
                name={`${id}-range`}
                value={value}
                checked={days === value}
                onChange={() => setDays(value)}
              />
              {value === 1 ? t("day") : t("month")}
            </label>
          ))}
        </fieldset>
      }
    >
      <QueryState
        query={history}
        signInHref={signInHref}
        isEmpty={(points) => points.length === 0}
        empty={<p className={styles.state}>{t("empty")}</p>}
      >
        {(points) => {
          const samples = points.map((p) => ({
            at: Date.parse(p.at),
            pushed: p.pushedPerSec,
            delivered: p.deliveredPerSec,
          }));
          const start = samples[0]?.at ?? 0;
          const end = Math.max(start + 60_000, samples.at(-1)?.at ?? 0);
          const peaks = {
            pushed: Math.max(0, ...samples.map((s) => s.pushed)),
            delivered: Math.max(0, ...samples.map((s) => s.delivered)),
          };
          const top = rateCeiling(Math.max(peaks.pushed, peaks.delivered));
          const x = (at: number) => ((at - start) / (end - start)) * WIDTH;
          const y = (value: number) => HEIGHT - (value / top) * (HEIGHT - 4) - 2;
          const when = (at: number) =>
            format.dateTime(new Date(at), { dateStyle: "short", timeStyle: "short" });
          return (
            <div className={styles.lag}>
              <div className={styles.chart}>
                <span className={styles.axisTop}>{rate(top)}</span>
                <span className={styles.axisBottom}>{rate(0)}</span>
                <svg
                  className={styles.chartSvg}
                  viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
                  preserveAspectRatio="none"
                  role="img"
                  aria-label={t("chartLabel")}
                  data-samples={samples.length}
                  data-testid="throughput-chart"
                >
                  {[0, 0.5, 1].map((fraction) => (
                    <line
                      key={fraction}
                      className={styles.gridLine}
                      x1={0}
                      x2={WIDTH}
                      y1={y(top * fraction)}
                      y2={y(top * fraction)}
                      vectorEffect="non-scaling-stroke"
                    />
                  ))}
                  {(["pushed", "delivered"] as const).map((series) => (
                    <path
                      key={series}
                      d={stepPath(
                        samples.map((s) => ({ at: s.at, value: s[series] })),
                        x,
                        y,
                        end,
                      )}
                      fill="none"
                      stroke={COLOURS[series]}
                      strokeWidth={2.25}
                      strokeLinejoin="round"
                      vectorEffect="non-scaling-stroke"
                    />
                  ))}
                </svg>
                <div className={styles.timeAxis}>
                  <span>{when(start)}</span>
                  <span>{when(end)}</span>
                </div>
              </div>
              <ul className={styles.legend}>
                {(["pushed", "delivered"] as const).map((series) => (
                  <li key={series} data-testid="throughput-legend" data-series={series}>
                    <span
                      className={styles.swatch}
                      style={{ background: COLOURS[series] }}
                      aria-hidden="true"
                    />
                    <span className={styles.strong}>{t(series)}</span>
                    <span className={styles.legendValue}>
                      {rate(samples.at(-1)?.[series] ?? 0)}
                    </span>
                    <span className={styles.muted}>
                      {t("peak", { value: rate(peaks[series]) })}
                    </span>
                  </li>
                ))}
              </ul>
            </div>
          );
        }}
      </QueryState>
    </Panel>
  );
}
