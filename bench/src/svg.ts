/**
 * Small SVG line charts for the report, written by hand (no dependency): one x axis, one y
 * axis, a few series of points, a legend. Values are plotted as they are on linear axes
 * unless `logX` is set.
 */
export interface Series {
  label: string;
  color: string;
  points: { x: number; y: number }[];
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  /** Horizontal reference lines (a target), drawn dashed. */
  lines?: { y: number; label: string }[];
}

const W = 640;
const H = 360;
const M = { left: 64, right: 24, top: 40, bottom: 52 };

const xmlText = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Round tick values: 1, 2, 5 x 10^n covering [0, max]. */
export function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + step / 2; v += step) out.push(Number(v.toPrecision(6)));
  return out;
}

export function lineChart(spec: ChartSpec): string {
  const points = spec.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y));
  const xs = points.map((p) => p.x);
  const yMax = Math.max(...points.map((p) => p.y), ...(spec.lines ?? []).map((l) => l.y), 1);
  const yTicks = ticks(yMax * 1.05);
  const yTop = yTicks[yTicks.length - 1] ?? yMax;
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const fx = (x: number) => {
    const span = spec.logX ? Math.log(xMax / xMin) : xMax - xMin;
    const at = spec.logX ? Math.log(x / xMin) : x - xMin;
    return M.left + (span > 0 ? at / span : 0.5) * (W - M.left - M.right);
  };
  const fy = (y: number) => H - M.bottom - (y / yTop) * (H - M.top - M.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12" role="img">`,
    // The chart's name for screen readers and for Biome's SVG rule (a committed chart is linted).
    `<title>${xmlText(spec.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${xmlText(spec.title)}</text>`,
  ];
  for (const t of yTicks) {
    out.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${fy(t)}" y2="${fy(t)}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${fy(t) + 4}" text-anchor="end">${t}</text>`,
    );
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(
      `<text x="${fx(x)}" y="${H - M.bottom + 16}" text-anchor="middle">${x.toLocaleString("en-US")}</text>`,
    );
  }
  out.push(
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="black"/>`,
    `<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="black"/>`,
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">${xmlText(spec.xLabel)}</text>`,
    `<text x="16" y="${H / 2}" text-anchor="middle" transform="rotate(-90 16 ${H / 2})">${xmlText(spec.yLabel)}</text>`,
  );
  for (const line of spec.lines ?? []) {
    out.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${fy(line.y)}" y2="${fy(line.y)}" stroke="#c00" stroke-dasharray="6 4"/>`,
      `<text x="${W - M.right}" y="${fy(line.y) - 4}" text-anchor="end" fill="#c00">${xmlText(line.label)}</text>`,
    );
  }
  spec.series.forEach((series, i) => {
    const valid = series.points.filter((p) => Number.isFinite(p.y));
    const path = valid.map((p, j) => `${j === 0 ? "M" : "L"}${fx(p.x)},${fy(p.y)}`).join(" ");
    if (path) out.push(`<path d="${path}" fill="none" stroke="${series.color}" stroke-width="2"/>`);
    for (const p of valid) {
      out.push(`<circle cx="${fx(p.x)}" cy="${fy(p.y)}" r="3" fill="${series.color}"/>`);
    }
    const ly = M.top + 4 + i * 16;
    out.push(
      `<rect x="${M.left + 10}" y="${ly}" width="12" height="4" fill="${series.color}"/>`,
      `<text x="${M.left + 28}" y="${ly + 6}">${xmlText(series.label)}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
