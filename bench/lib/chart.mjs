// @ts-check
/**
 * A small scatter chart (log–log axes, series of points, an optional frontier line and reference
 * line) drawn once as a list of shapes and rendered two ways: SVG text, and PNG pixels through the
 * CLI's PNG encoder and 5×7 bitmap font (no native dependency, no browser). The PNG's text is
 * upper case: the bitmap font has no lower-case letters.
 */

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

/** @type {(from: number, to: number, step: number) => number[]} */
const range = (from, to, step) => Array.from({ length: Math.round((to - from) / step) + 1 }, (_, i) => Number((from + i * step).toFixed(2)));

/** Mantissa sets for log-axis ticks, coarse to fine. */
const tickMantissas = [
  [1, 2, 5],
  [1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9],
  [...range(1, 2, 0.1), ...range(2.2, 5, 0.2), ...range(5.5, 9.5, 0.5)],
];

/**
 * Tick values of a log axis: the coarsest of 1-2-5, 1…9, and finer mantissa sets × powers of ten
 * whose ticks inside [min, max] leave no gap (ends included) wider than 40 % of the axis, so a
 * narrow range is labelled across its whole width, not just in its lower decade.
 *
 * @param {number} min
 * @param {number} max
 * @returns {number[]}
 */
export function logTicks(min, max) {
  const span = Math.log10(max / min);
  /** @type {number[]} */
  let ticks = [];
  for (const mantissas of tickMantissas) {
    ticks = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
      for (const m of mantissas) {
        const v = Number((m * 10 ** e).toPrecision(6));
        if (v >= min * 0.999 && v <= max * 1.001) ticks.push(v);
      }
    }
    const edges = [min, ...ticks, max].map(Math.log10);
    const widestGap = Math.max(...edges.slice(1).map((v, i) => v - edges[i]));
    if (ticks.length >= 2 && widestGap <= 0.4 * span) return ticks;
  }
  return ticks;
}

/** @type {(v: number) => string} */
const tickLabel = (v) => (v >= 1000 ? `${v / 1000}k` : String(Number(v.toPrecision(3))));

/**
 * Lays out the chart as shapes.
 *
 * @param {import('./types.js').ChartSpec} spec series: [{ name, points: [{ x, y, label? }] }];
 *   frontier: optional [{ x, y }] drawn as a dashed line through the points; frontiers: optional
 *   more such lines, each in its colour (named once by frontiersLegend); reference: optional
 *   { y, label }, a horizontal dotted line (e.g. the real-vs-real floor)
 * @returns {import('./types.js').Chart}
 */
export function layoutChart(spec) {
  const width = spec.width ?? 960;
  const height = spec.height ?? 640;
  const margin = { left: 90, right: 270, top: 76, bottom: 70 };
  const all = spec.series.flatMap((s) => s.points);
  if (all.length === 0) throw new Error('layoutChart: no points');
  const ys = [...all.map((p) => p.y), ...(spec.reference ? [spec.reference.y] : [])];
  const pad = (/** @type {number} */ lo, /** @type {number} */ hi) => [lo / 1.25, hi * 1.25];
  const [xMin, xMax] = pad(Math.min(...all.map((p) => p.x)), Math.max(...all.map((p) => p.x)));
  const [yMin, yMax] = pad(Math.min(...ys), Math.max(...ys));
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const X = (/** @type {number} */ x) => margin.left + ((Math.log10(x) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))) * plotW;
  const Y = (/** @type {number} */ y) => margin.top + plotH - ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH;
  /** @type {import('./types.js').ChartShape[]} */
  const shapes = [{ kind: 'rect', x: 0, y: 0, w: width, h: height, fill: '#ffffff' }];
  // Grid and ticks.
  for (const t of logTicks(xMin, xMax)) {
    shapes.push({ kind: 'line', x1: X(t), y1: margin.top, x2: X(t), y2: margin.top + plotH, color: '#e6e6e6', width: 1 });
    shapes.push({ kind: 'text', x: X(t), y: margin.top + plotH + 20, text: tickLabel(t), size: 12, anchor: 'middle', color: '#333333' });
  }
  for (const t of logTicks(yMin, yMax)) {
    shapes.push({ kind: 'line', x1: margin.left, y1: Y(t), x2: margin.left + plotW, y2: Y(t), color: '#e6e6e6', width: 1 });
    shapes.push({ kind: 'text', x: margin.left - 8, y: Y(t) + 4, text: tickLabel(t), size: 12, anchor: 'end', color: '#333333' });
  }
  shapes.push({ kind: 'line', x1: margin.left, y1: margin.top + plotH, x2: margin.left + plotW, y2: margin.top + plotH, color: '#000000', width: 1.5 });
  shapes.push({ kind: 'line', x1: margin.left, y1: margin.top, x2: margin.left, y2: margin.top + plotH, color: '#000000', width: 1.5 });
  shapes.push({ kind: 'text', x: margin.left + plotW / 2, y: height - 22, text: spec.xLabel, size: 14, anchor: 'middle', color: '#000000' });
  shapes.push({ kind: 'text', x: 16, y: margin.top - 18, text: spec.yLabel, size: 14, anchor: 'start', color: '#000000' });
  shapes.push({ kind: 'text', x: 16, y: 26, text: spec.title, size: 16, anchor: 'start', color: '#000000' });
  if (spec.reference) {
    const y = Y(spec.reference.y);
    shapes.push({ kind: 'line', x1: margin.left, y1: y, x2: margin.left + plotW, y2: y, color: '#555555', width: 1.5, dash: [2, 4] });
    shapes.push({ kind: 'text', x: margin.left + plotW - 4, y: y - 6, text: spec.reference.label, size: 12, anchor: 'end', color: '#555555' });
  }
  if (spec.frontier && spec.frontier.length > 1) {
    const f = [...spec.frontier].sort((a, b) => a.x - b.x);
    for (let i = 1; i < f.length; i++) {
      shapes.push({ kind: 'line', x1: X(f[i - 1].x), y1: Y(f[i - 1].y), x2: X(f[i].x), y2: Y(f[i].y), color: '#000000', width: 1.5, dash: [6, 4] });
    }
  }
  for (const front of spec.frontiers ?? []) {
    const f = [...front.points].sort((a, b) => a.x - b.x);
    for (let i = 1; i < f.length; i++) {
      shapes.push({ kind: 'line', x1: X(f[i - 1].x), y1: Y(f[i - 1].y), x2: X(f[i].x), y2: Y(f[i].y), color: front.color, width: 1.5, dash: [6, 4] });
    }
  }
  spec.series.forEach((series, i) => {
    const color = series.color ?? palette[i % palette.length];
    for (const p of series.points) {
      shapes.push({ kind: 'circle', cx: X(p.x), cy: Y(p.y), r: 5, fill: color, stroke: p.highlight ? '#000000' : color });
      if (p.label) shapes.push({ kind: 'text', x: X(p.x) + 8, y: Y(p.y) - 6, text: p.label, size: 11, anchor: 'start', color: '#222222' });
    }
    const ly = margin.top + 10 + i * 22;
    const lx = width - margin.right + 24;
    shapes.push({ kind: 'circle', cx: lx, cy: ly, r: 5, fill: color, stroke: color });
    shapes.push({ kind: 'text', x: lx + 12, y: ly + 4, text: series.name, size: 12, anchor: 'start', color: '#000000' });
  });
  if (spec.frontier && spec.frontier.length > 1) {
    const ly = margin.top + 10 + spec.series.length * 22;
    const lx = width - margin.right + 16;
    shapes.push({ kind: 'line', x1: lx, y1: ly, x2: lx + 16, y2: ly, color: '#000000', width: 1.5, dash: [6, 4] });
    shapes.push({ kind: 'text', x: lx + 20, y: ly + 4, text: 'Pareto frontier', size: 12, anchor: 'start', color: '#000000' });
  }
  if (spec.frontiers && spec.frontiers.length > 0 && spec.frontiersLegend) {
    const ly = margin.top + 10 + (spec.series.length + (spec.frontier && spec.frontier.length > 1 ? 1 : 0)) * 22;
    const lx = width - margin.right + 16;
    shapes.push({ kind: 'line', x1: lx, y1: ly, x2: lx + 16, y2: ly, color: '#555555', width: 1.5, dash: [6, 4] });
    shapes.push({ kind: 'text', x: lx + 20, y: ly + 4, text: spec.frontiersLegend, size: 12, anchor: 'start', color: '#000000' });
  }
  return { width, height, shapes };
}

/** @type {(s: unknown) => string} */
const escapeXml = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** @type {(v: number) => number} */
const r1 = (v) => Math.round(v * 10) / 10;

/**
 * The chart as an SVG document.
 *
 * @param {import('./types.js').Chart} chart
 * @returns {string}
 */
export function chartToSvg(chart) {
  const body = chart.shapes.map((s) => {
    switch (s.kind) {
      case 'rect':
        return `<rect x="${s.x}" y="${s.y}" width="${s.w}" height="${s.h}" fill="${s.fill}"/>`;
      case 'line':
        return `<line x1="${r1(s.x1)}" y1="${r1(s.y1)}" x2="${r1(s.x2)}" y2="${r1(s.y2)}" stroke="${s.color}" stroke-width="${s.width}"${s.dash ? ` stroke-dasharray="${s.dash.join(' ')}"` : ''}/>`;
      case 'circle':
        return `<circle cx="${r1(s.cx)}" cy="${r1(s.cy)}" r="${s.r}" fill="${s.fill}" stroke="${s.stroke}" stroke-width="1.5"/>`;
      case 'text':
        return `<text x="${r1(s.x)}" y="${r1(s.y)}" font-size="${s.size}" text-anchor="${s.anchor}" fill="${s.color}">${escapeXml(s.text)}</text>`;
      default:
        throw new Error(`unknown shape ${/** @type {{ kind: string }} */ (s).kind}`);
    }
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${chart.width}" height="${chart.height}" viewBox="0 0 ${chart.width} ${chart.height}" font-family="Helvetica, Arial, sans-serif">\n${body.join('\n')}\n</svg>\n`;
}

/** @type {(hex: string) => number[]} */
const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

/**
 * Characters the bitmap font lacks, spelled with ones it has.
 *
 * @type {Record<string, string>}
 */
const spelled = { η: 'ETA', '–': '-', '—': '-', '×': 'X', '≥': '>=', '·': '.', µ: 'U' };

/**
 * The chart as RGB pixels: `{ width, height, channels: 3, data }`, ready for the CLI's encodePng.
 * `font` is the CLI's bitmap font module ({ drawText, textWidth, fontCharacters }).
 *
 * @param {import('./types.js').Chart} chart
 * @param {import('./types.js').BitmapFont} font
 * @returns {import('./types.js').Pixels}
 */
export function chartToPixels(chart, font) {
  const { width, height } = chart;
  const data = new Uint8Array(width * height * 3);
  /** @type {(x: number, y: number, color: number[]) => void} */
  const put = (x, y, color) => {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= width || yi >= height) return;
    const o = (yi * width + xi) * 3;
    data[o] = color[0];
    data[o + 1] = color[1];
    data[o + 2] = color[2];
  };
  /** @type {(cx: number, cy: number, r: number, color: number[]) => void} */
  const disc = (cx, cy, r, color) => {
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) put(x, y, color);
    }
  };
  const allowed = new Set(font.fontCharacters);
  const printable = (/** @type {string} */ text) =>
    [...String(text).toUpperCase()]
      .map((ch) => spelled[ch] ?? ch)
      .join('')
      .split('')
      .map((ch) => (allowed.has(ch) ? ch : ' '))
      .join('');
  for (const s of chart.shapes) {
    switch (s.kind) {
      case 'rect': {
        const color = rgb(s.fill);
        for (let y = s.y; y < s.y + s.h; y++) for (let x = s.x; x < s.x + s.w; x++) put(x, y, color);
        break;
      }
      case 'line': {
        const color = rgb(s.color);
        const length = Math.hypot(s.x2 - s.x1, s.y2 - s.y1);
        const n = Math.max(1, Math.ceil(length * 2));
        const period = s.dash ? s.dash[0] + s.dash[1] : 0;
        for (let i = 0; i <= n; i++) {
          const along = (i / n) * length;
          if (s.dash && along % period > s.dash[0]) continue;
          const x = s.x1 + ((s.x2 - s.x1) * i) / n;
          const y = s.y1 + ((s.y2 - s.y1) * i) / n;
          if (s.width > 1) disc(x, y, s.width / 2, color);
          else put(x, y, color);
        }
        break;
      }
      case 'circle':
        disc(s.cx, s.cy, s.r + 1, rgb(s.stroke));
        disc(s.cx, s.cy, s.r, rgb(s.fill));
        break;
      case 'text': {
        // The font's ink is one gray level for every channel: draw in a one-channel scratch canvas, then copy.
        const scale = s.size >= 14 ? 2 : 1;
        const text = printable(s.text);
        const w = font.textWidth(text, scale);
        const h = 7 * scale;
        const scratch = { width: w + 2, height: h + 2, channels: 1, data: new Uint8Array((w + 2) * (h + 2)).fill(255) };
        font.drawText(scratch, text, 1, 1, { scale, ink: 0 });
        const left = s.anchor === 'middle' ? s.x - w / 2 : s.anchor === 'end' ? s.x - w : s.x;
        const top = s.y - h;
        const color = rgb(s.color);
        for (let y = 0; y < scratch.height; y++) for (let x = 0; x < scratch.width; x++) if (scratch.data[y * scratch.width + x] === 0) put(left + x - 1, top + y - 1, color);
        break;
      }
      default:
        throw new Error(`unknown shape ${/** @type {{ kind: string }} */ (s).kind}`);
    }
  }
  return { width, height, channels: 3, data };
}

/**
 * The points no other point beats on both axes (lower is better on both): sorted by x, each
 * with a smaller y than every point faster than it.
 *
 * @template {{ x: number, y: number }} Point
 * @param {readonly Point[]} points
 * @returns {Point[]}
 */
export function paretoFrontier(points) {
  const sorted = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  /** @type {Point[]} */
  const frontier = [];
  let best = Infinity;
  for (const p of sorted) {
    if (p.y < best) {
      frontier.push(p);
      best = p.y;
    }
  }
  return frontier;
}
