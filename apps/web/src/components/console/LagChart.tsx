"use client";

import { useFormatter, useLocale, useTranslations } from "next-intl";
import { useId, useState } from "react";
import { formatDuration } from "@/lib/format-duration";
import { niceCeiling, stepPath } from "./chart-geometry";
import styles from "./console.module.css";
import type { DeviceLagSeries } from "./lag-history";

type Metric = "ops" | "ms";

const WIDTH = 640;
const HEIGHT = 180;
/** Line colours, readable on the light and the dark surface alike. */
const PALETTE = ["#6d5ff0", "#0f9d74", "#e0801b", "#d6336c", "#1c7ed6", "#a855f7"];

/**
 * Lag of some devices over time. By default the console's session chart; `text` words it for
 * another source (a device's history kept on the server): its title, its note, its empty state.
 */
export function LagChart({
  series,
  now,
  text,
  testId = "lag-chart",
}: {
  series: DeviceLagSeries[];
  now: number;
  text?: { title: string; note: string | null; empty: string };
  testId?: string;
}) {
  const t = useTranslations("Console.lag");
  const format = useFormatter();
  const locale = useLocale();
  const id = useId();
  const [metric, setMetric] = useState<Metric>("ops");
  const sampleCount = series.reduce((sum, s) => sum + s.samples.length, 0);
  const metricOf = (sample: { ops: number; ms: number }) =>
    metric === "ops" ? sample.ops : sample.ms;
  const label = (value: number) =>
    metric === "ops" ? format.number(value) : formatDuration(value, locale);

  const times = series.flatMap((s) => s.samples.map((sample) => sample.at));
  const start = times.length > 0 ? Math.min(...times) : now;
  // A sample can be newer than the last tick of `now`: the axis always reaches the newest.
  const end = Math.max(now, start + 1_000, ...times);
  const peak = Math.max(0, ...series.flatMap((s) => s.samples.map(metricOf)));
  const top = metric === "ops" ? niceCeiling(peak) : Math.max(1_000, peak * 1.1);
  const x = (at: number) => ((at - start) / (end - start)) * WIDTH;
  const y = (value: number) => HEIGHT - (value / top) * (HEIGHT - 4) - 2;

  return (
    <section className={styles.lag} aria-labelledby={`${id}-title`} data-testid={testId}>
      <header className={styles.lagHeader}>
        <div>
          <h3 id={`${id}-title`}>{text ? text.title : t("title")}</h3>
          {text?.note === null ? null : (
            <p className={styles.note} data-testid="lag-chart-note">
              {text ? text.note : t("note")}
            </p>
          )}
        </div>
        <fieldset className={styles.segmented}>
          <legend className="visually-hidden">{t("metric")}</legend>
          {(["ops", "ms"] as const).map((value) => (
            <label key={value} data-checked={metric === value || undefined}>
              <input
                type="radio"
                name={`${id}-metric`}
                value={value}
                checked={metric === value}
                onChange={() => setMetric(value)}
              />
              {value === "ops" ? t("ops") : t("time")}
            </label>
          ))}
        </fieldset>
      </header>
      {sampleCount === 0 ? (
        <p className={styles.empty}>{text ? text.empty : t("empty")}</p>
      ) : (
        <>
          <div className={styles.chart}>
            <span className={styles.axisTop}>{label(top)}</span>
            <span className={styles.axisBottom}>{label(0)}</span>
            <svg
              className={styles.chartSvg}
              viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
              preserveAspectRatio="none"
              role="img"
              aria-label={text ? text.title : t("chartLabel")}
              data-samples={sampleCount}
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
              {series.map((s, index) => (
                <path
                  key={s.deviceId}
                  d={stepPath(
                    s.samples.map((sample) => ({ at: sample.at, value: metricOf(sample) })),
                    x,
                    y,
                    end,
                  )}
                  fill="none"
                  stroke={PALETTE[index % PALETTE.length]}
                  strokeWidth={2.25}
                  strokeLinejoin="round"
                  vectorEffect="non-scaling-stroke"
                />
              ))}
            </svg>
            <div className={styles.timeAxis}>
              <span>{format.dateTime(new Date(start), { timeStyle: "medium" })}</span>
              <span>{format.dateTime(new Date(end), { timeStyle: "medium" })}</span>
            </div>
          </div>
          <ul className={styles.legend}>
            {series.map((s, index) => {
              const last = s.samples.at(-1);
              const peakOfDevice = Math.max(0, ...s.samples.map(metricOf));
              return (
                <li key={s.deviceId} data-testid="lag-legend" data-device-id={s.deviceId}>
                  <span
                    className={styles.swatch}
                    style={{ background: PALETTE[index % PALETTE.length] }}
                    aria-hidden="true"
                  />
                  <span className={styles.strong}>{s.name}</span>
                  <span className={styles.legendValue}>{last ? label(metricOf(last)) : ""}</span>
                  <span className={styles.muted}>{t("max", { value: label(peakOfDevice) })}</span>
                </li>
              );
            })}
          </ul>
        </>
      )}
    </section>
  );
}
