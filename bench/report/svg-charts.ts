// Plain SVG charts for docs/benchmarks.md: no chart library, so that the files are small, diffable
// and render on GitHub as they are. Three kinds cover the report: grouped bars, stacked bars, lines.

const WIDTH = 760;
const HEIGHT = 360;
const MARGIN = { top: 48, right: 200, bottom: 56, left: 72 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
// Colour-blind-safe (Okabe-Ito); the first is always the baseline's.
const PALETTE = ["#999999", "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442"];

export interface Bar {
  name: string;
  value: number;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);
}

function formatNumber(value: number): string {
  if (value === 0) return "0";
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString("en-US");
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** A "nice" axis maximum and tick step (1, 2 or 5 times a power of ten). */
function niceScale(max: number, ticks = 5): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const rough = max / ticks;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].find((m) => m * power >= rough) ?? 10) * power;
  return { top: Math.ceil(max / step) * step, step };
}

function frame(title: string, body: string[], legend: string[], yLabel: string, xLabel = ""): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    // The accessible name of the chart (screen readers, and the tooltip of the file opened alone).
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2 - MARGIN.right / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text transform="translate(16 ${MARGIN.top + PLOT_H / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
    xLabel
      ? `<text x="${MARGIN.left + PLOT_W / 2}" y="${HEIGHT - 12}" text-anchor="middle">${escapeXml(xLabel)}</text>`
      : "",
    ...body,
    ...legend,
    "</svg>",
    "",
  ].join("\n");
}

function yAxis(top: number, step: number, unit: string): string[] {
  const out: string[] = [];
  for (let v = 0; v <= top + step / 2; v += step) {
    const y = MARGIN.top + PLOT_H - (v / top) * PLOT_H;
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_W}" y1="${y}" y2="${y}" stroke="#e0e0e0"/>`,
      `<text x="${MARGIN.left - 6}" y="${y + 4}" text-anchor="end">${formatNumber(v)}${unit ? ` ${escapeXml(unit)}` : ""}</text>`,
    );
  }
  out.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + PLOT_H}" stroke="#333"/>`,
  );
  return out;
}

function legendOf(names: string[]): string[] {
  return names.flatMap((name, i) => {
    const y = MARGIN.top + i * 20;
    const x = WIDTH - MARGIN.right + 16;
    return [
      `<rect x="${x}" y="${y}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/>`,
      `<text x="${x + 18}" y="${y + 10}">${escapeXml(name)}</text>`,
    ];
  });
}

/** Groups of side-by-side bars; bar i of every group has colour i (put the baseline first). */
export function groupedBarChart(options: {
  title: string;
  yLabel: string;
  unit?: string;
  groups: Array<{ label: string; bars: Bar[] }>;
}): string {
  const names = [...new Set(options.groups.flatMap((g) => g.bars.map((b) => b.name)))];
  const { top, step } = niceScale(Math.max(...options.groups.flatMap((g) => g.bars.map((b) => b.value))));
  const groupW = PLOT_W / Math.max(1, options.groups.length);
  const barW = (groupW * 0.8) / Math.max(1, names.length);
  const body = yAxis(top, step, options.unit ?? "");
  options.groups.forEach((group, gi) => {
    const x0 = MARGIN.left + gi * groupW + groupW * 0.1;
    for (const bar of group.bars) {
      const i = names.indexOf(bar.name);
      const h = (bar.value / top) * PLOT_H;
      const x = x0 + i * barW;
      const y = MARGIN.top + PLOT_H - h;
      body.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[i % PALETTE.length]}"><title>${escapeXml(`${group.label}, ${bar.name}: ${formatNumber(bar.value)}`)}</title></rect>`,
        `<text x="${(x + barW / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" font-size="10">${formatNumber(bar.value)}</text>`,
      );
    }
    body.push(
      `<text x="${(x0 + groupW * 0.4).toFixed(1)}" y="${MARGIN.top + PLOT_H + 18}" text-anchor="middle">${escapeXml(group.label)}</text>`,
    );
  });
  return frame(options.title, body, legendOf(names), options.yLabel);
}

/** One bar per label, each split into parts stacked bottom-up; part i has colour i+1. */
export function stackedBarChart(options: {
  title: string;
  yLabel: string;
  unit?: string;
  bars: Array<{ label: string; parts: Bar[] }>;
}): string {
  const names = [...new Set(options.bars.flatMap((b) => b.parts.map((p) => p.name)))];
  const totals = options.bars.map((b) => b.parts.reduce((sum, p) => sum + p.value, 0));
  const { top, step } = niceScale(Math.max(...totals));
  const slotW = PLOT_W / Math.max(1, options.bars.length);
  const barW = Math.min(120, slotW * 0.6);
  const body = yAxis(top, step, options.unit ?? "");
  options.bars.forEach((bar, bi) => {
    const x = MARGIN.left + bi * slotW + (slotW - barW) / 2;
    let base = MARGIN.top + PLOT_H;
    for (const part of bar.parts) {
      const i = names.indexOf(part.name);
      const h = (part.value / top) * PLOT_H;
      base -= h;
      body.push(
        `<rect x="${x.toFixed(1)}" y="${base.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[(i + 1) % PALETTE.length]}" stroke="#fff"><title>${escapeXml(`${bar.label}, ${part.name}: ${formatNumber(part.value)}`)}</title></rect>`,
      );
      if (h > 14) {
        body.push(
          `<text x="${(x + barW / 2).toFixed(1)}" y="${(base + h / 2 + 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#fff">${formatNumber(part.value)}</text>`,
        );
      }
    }
    body.push(
      `<text x="${(x + barW / 2).toFixed(1)}" y="${(base - 4).toFixed(1)}" text-anchor="middle" font-weight="bold">${formatNumber(totals[bi] as number)}</text>`,
      `<text x="${(x + barW / 2).toFixed(1)}" y="${MARGIN.top + PLOT_H + 18}" text-anchor="middle">${escapeXml(bar.label)}</text>`,
    );
  });
  const legend = legendOf(["", ...names]).slice(2); // part colours start at 1
  return frame(options.title, body, legend, options.yLabel);
}

/** Lines through [x, y] points; series 0 is drawn dashed grey (the baseline). */
export function lineChart(options: {
  title: string;
  xLabel: string;
  yLabel: string;
  unit?: string;
  series: Array<{ name: string; points: Array<[number, number]> }>;
  xTicks?: number[];
  /** How an x tick is labelled, e.g. when x is a position standing for a percentile. */
  xTickLabel?: (x: number) => string;
}): string {
  const xs = options.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = options.series.flatMap((s) => s.points.map((p) => p[1]));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const { top, step } = niceScale(Math.max(...ys));
  const xOf = (x: number) => MARGIN.left + (xMax === xMin ? 0 : ((x - xMin) / (xMax - xMin)) * PLOT_W);
  const yOf = (y: number) => MARGIN.top + PLOT_H - (y / top) * PLOT_H;
  const body = yAxis(top, step, options.unit ?? "");
  body.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_W}" y1="${MARGIN.top + PLOT_H}" y2="${MARGIN.top + PLOT_H}" stroke="#333"/>`,
  );
  for (const x of options.xTicks ?? [...new Set(xs)]) {
    body.push(
      `<text x="${xOf(x).toFixed(1)}" y="${MARGIN.top + PLOT_H + 16}" text-anchor="middle" font-size="10">${escapeXml(options.xTickLabel?.(x) ?? formatNumber(x))}</text>`,
    );
  }
  options.series.forEach((series, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const path = series.points.map(([x, y], j) => `${j ? "L" : "M"}${xOf(x).toFixed(1)} ${yOf(y).toFixed(1)}`);
    body.push(
      `<path d="${path.join(" ")}" fill="none" stroke="${colour}" stroke-width="2"${i === 0 ? ' stroke-dasharray="6 3"' : ""}/>`,
      ...series.points.map(
        ([x, y]) =>
          `<circle cx="${xOf(x).toFixed(1)}" cy="${yOf(y).toFixed(1)}" r="2.5" fill="${colour}"><title>${escapeXml(`${series.name}: ${formatNumber(x)} → ${formatNumber(y)}`)}</title></circle>`,
      ),
    );
  });
  return frame(options.title, body, legendOf(options.series.map((s) => s.name)), options.yLabel, options.xLabel);
}
