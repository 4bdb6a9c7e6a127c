// Small line charts in SVG of our own (no library, no request): the canary against the baseline,
// one point per look of the analysis, the limit it is judged by drawn dashed. Drawn at the width the
// panel gives it (redrawn when that changes), so text stays the theme's size at 300 px and at 1,400
// px; colours are the theme's chart colours (charts-orange, charts-blue, charts-red).

export type Point = readonly [t: number, v: number | null];

export interface ChartSpec {
  title: string;
  unit: 'pct' | 'ms' | 'num';
  canary: readonly Point[];
  baseline?: readonly Point[];
  /** a limit: flat, or following the baseline (MaxLatencyRatio × its p95) */
  limits: ReadonlyArray<{ label: string; points: readonly Point[] }>;
  /** points the canary had too few requests for (drawn hollow) */
  pending?: ReadonlySet<number>;
  /** the soak's planned length, seconds */
  xMax: number;
  /** the look that failed it */
  failAt?: number;
}

const svgNs = 'http://www.w3.org/2000/svg';

function s(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(svgNs, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** 1, 2 or 5 times a power of ten: ticks a person reads at a glance */
export function niceStep(range: number, ticks: number): number {
  const raw = range / Math.max(1, ticks);
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

export function formatValue(v: number, unit: ChartSpec['unit']): string {
  if (unit === 'pct') {
    const pct = v * 100;
    return `${pct >= 10 || pct === 0 ? Math.round(pct) : pct.toFixed(pct >= 1 ? 1 : 2)} %`;
  }
  if (unit === 'ms') return `${v >= 10 || v === 0 ? Math.round(v) : v.toFixed(1)} ms`;
  return Math.abs(v) >= 100 || v === 0 ? String(Math.round(v)) : v.toPrecision(3);
}

/** draws (or redraws) the chart into `box` at its current width */
export function drawChart(box: HTMLElement, spec: ChartSpec): void {
  const width = Math.max(220, Math.floor(box.clientWidth || 300));
  const height = 150;
  const m = { l: 48, r: 12, t: 10, b: 24 };
  const values = [...spec.canary, ...(spec.baseline ?? []), ...spec.limits.flatMap((l) => l.points)]
    .map((p) => p[1])
    .filter((v): v is number => v !== null && Number.isFinite(v));
  const floor = spec.unit === 'pct' ? 0.01 : spec.unit === 'ms' ? 1 : 1e-9;
  const top = Math.max(floor, ...values) * 1.15;
  const yStep = niceStep(top, 3);
  const yMax = Math.ceil(top / yStep) * yStep;
  const xMax = Math.max(spec.xMax, ...spec.canary.map((p) => p[0]), 1);
  const xStep = niceStep(xMax, Math.max(2, Math.floor((width - m.l - m.r) / 70)));
  const X = (t: number) => m.l + (t / xMax) * (width - m.l - m.r);
  const Y = (v: number) => m.t + (1 - v / yMax) * (height - m.t - m.b);
  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': spec.title,
  });
  for (let v = 0; v <= yMax + 1e-12; v += yStep) {
    svg.append(s('line', { class: v === 0 ? 'axis' : 'grid', x1: m.l, x2: width - m.r, y1: Y(v), y2: Y(v) }));
    svg.append(s('text', { x: m.l - 4, y: Y(v) + 3, 'text-anchor': 'end' }, formatValue(v, spec.unit)));
  }
  for (let t = 0; t <= xMax + 1e-9; t += xStep)
    svg.append(s('text', { x: X(t), y: height - 8, 'text-anchor': 'middle' }, `${Math.round(t * 10) / 10} s`));
  svg.append(s('line', { class: 'axis', x1: m.l, x2: m.l, y1: m.t, y2: height - m.b }));
  if (spec.xMax > 0 && spec.xMax <= xMax)
    svg.append(s('line', { class: 'soak-end', x1: X(spec.xMax), x2: X(spec.xMax), y1: m.t, y2: height - m.b }));
  for (const l of spec.limits) {
    const pts = l.points.filter((p): p is readonly [number, number] => p[1] !== null);
    if (!pts.length) continue;
    const flat = pts.every((p) => p[1] === pts[0][1]);
    const d = flat
      ? `M${m.l},${Y(pts[0][1])} H${width - m.r}`
      : pts.map((p, i) => `${i ? 'L' : 'M'}${X(p[0])},${Y(p[1])}`).join(' ');
    svg.append(s('path', { class: 'limit', d }));
    const last = pts.at(-1)!;
    svg.append(
      s(
        'text',
        { class: 'limit-label', x: width - m.r, y: Y(flat ? pts[0][1] : last[1]) - 4, 'text-anchor': 'end' },
        l.label,
      ),
    );
  }
  const line = (pts: readonly Point[], cls: string, hollow?: ReadonlySet<number>) => {
    const ok = pts.filter((p): p is readonly [number, number] => p[1] !== null);
    if (ok.length > 1)
      svg.append(s('path', { class: cls, d: ok.map((p, i) => `${i ? 'L' : 'M'}${X(p[0])},${Y(p[1])}`).join(' ') }));
    for (const p of ok)
      svg.append(
        s('circle', {
          class: hollow?.has(p[0]) ? cls : `dot ${cls}`,
          cx: X(p[0]),
          cy: Y(p[1]),
          r: ok.length > 60 ? 1.5 : 2.5,
          'data-t': p[0],
        }),
      );
  };
  if (spec.baseline) line(spec.baseline, 'baseline');
  line(spec.canary, 'canary', spec.pending);
  if (spec.failAt !== undefined) {
    const p = spec.canary.find((x) => x[0] === spec.failAt && x[1] !== null);
    if (p) {
      svg.append(s('circle', { class: 'fail', cx: X(p[0]), cy: Y(p[1]!), r: 4.5 }));
      svg.append(s('text', { class: 'limit-label', x: X(p[0]) - 6, y: Y(p[1]!) - 7, 'text-anchor': 'end' }, 'FAIL'));
    }
  }
  box.replaceChildren(svg);
}
