/** The smallest "round" number (1, 2 or 5 times a power of ten) at or above `value`. */
export function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * One step line per device: lag holds its value until the next sample, and the last one is
 * carried to `now`. Time runs towards the reading direction's end (mirrored in Arabic).
 */
export function stepPath(
  samples: ReadonlyArray<{ at: number; value: number }>,
  x: (at: number) => number,
  y: (value: number) => number,
  now: number,
): string {
  const [first, ...rest] = samples;
  if (!first) return "";
  let d = `M${x(first.at).toFixed(1)} ${y(first.value).toFixed(1)}`;
  for (const sample of rest) {
    d += ` H${x(sample.at).toFixed(1)} V${y(sample.value).toFixed(1)}`;
  }
  return `${d} H${x(now).toFixed(1)}`;
}
