const DURATION_UNITS = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
  ["second", 1_000],
] as const;

/**
 * A length of time in the reader's language, its two largest units, with words people read
 * rather than symbols: "89 days, 23 hr", "4 min, 45 sec", "89 Tg., 23 Std.". Below a second it
 * is milliseconds ("250 ms"), never "0 s". The sign is dropped: callers say "in" or "ago" with
 * their own words.
 */
export function formatDuration(ms: number, locale: string, maxUnits = 2): string {
  const abs = Math.abs(ms);
  if (abs < 1000) {
    return new Intl.NumberFormat(locale, {
      style: "unit",
      unit: "millisecond",
      unitDisplay: "short",
      maximumFractionDigits: 0,
    }).format(abs);
  }
  let rest = Math.floor(abs / 1000) * 1000;
  const parts: string[] = [];
  for (const [unit, size] of DURATION_UNITS) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    // Leading zero units are skipped; a zero after the first unit ends the precision shown.
    if (parts.length === 0 && count === 0 && unit !== "second") continue;
    if (parts.length > 0 && count === 0) break;
    parts.push(
      new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "short" }).format(count),
    );
    if (parts.length === maxUnits) break;
  }
  return new Intl.ListFormat(locale, { type: "unit", style: "short" }).format(parts);
}

const BYTE_UNITS = ["byte", "kilobyte", "megabyte", "gigabyte", "terabyte"] as const;

/** "12 bytes", "12 kB", "3.4 MB" in the reader's language (powers of 1000, as the units say). */
export function formatBytes(bytes: number, locale: string): string {
  let value = Math.max(0, bytes);
  let index = 0;
  while (value >= 1000 && index < BYTE_UNITS.length - 1) {
    value /= 1000;
    index++;
  }
  return new Intl.NumberFormat(locale, {
    style: "unit",
    unit: BYTE_UNITS[index],
    unitDisplay: index === 0 ? "long" : "short",
    maximumFractionDigits: value < 10 && index > 0 ? 1 : 0,
  }).format(value);
}
