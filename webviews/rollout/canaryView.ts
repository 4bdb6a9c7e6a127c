// The canary analysis as a person reads a verdict: for each canary, its error rate and its p95
// (HAProxy: mean) against the baseline's at every look of its soak, the limits drawn, the
// Prometheus query's number when there is one, then the verdict and why. Live during the soak (a
// point per look), kept after from the journal.
import type { WindowSummary } from '../../core/rollout/analysis';
import { drawChart, formatValue, type ChartSpec, type Point } from './chart';
import { el } from './dom';
import type { CanarySeries, Thresholds } from './protocol';

export interface DrawnChart {
  box: HTMLElement;
  spec: ChartSpec;
}

/** newest first, at most this many canaries shown */
const shown = 3;

export function canarySection(
  series: readonly CanarySeries[],
  th: Thresholds | undefined,
  charts: DrawnChart[],
): HTMLElement[] {
  if (!th) return [];
  if (!series.length)
    return [
      el('h2', {}, 'Canary analysis'),
      el(
        'div',
        { class: 'muted', id: 'analysis-waiting' },
        `Each canary is judged during its soak, every ${th.intervalSecs} s: its error rate and latency against the baseline's will be drawn here.`,
      ),
    ];
  return [
    el('h2', {}, 'Canary analysis'),
    ...[...series]
      .reverse()
      .slice(0, shown)
      .map((s) => oneCanary(s, th, charts)),
  ];
}

function oneCanary(s: CanarySeries, th: Thresholds, charts: DrawnChart[]): HTMLElement {
  const last = s.points.at(-1);
  const verdict = !last ? 'pending' : last.verdict;
  const failAt = s.points.find((p) => p.verdict === 'fail')?.t;
  const t = (sel: (w: WindowSummary) => number | null, which: 'canary' | 'baseline'): Point[] =>
    s.points.map((p) => [p.t, sel(p[which])]);
  const pending = new Set(s.points.filter((p) => p.canary.requests < th.minRequests).map((p) => p.t));
  const kind = last?.canary.latencyKind ?? 'p95';
  const specs: ChartSpec[] = [
    {
      title: 'Error rate',
      unit: 'pct',
      canary: t((w) => w.errorRate, 'canary'),
      baseline: t((w) => w.errorRate, 'baseline'),
      limits: [{ label: `MaxErrorRate ${formatValue(th.maxErrorRate, 'pct')}`, points: [[0, th.maxErrorRate]] }],
      pending,
      xMax: s.soakSecs,
      failAt,
    },
    {
      title: kind === 'p95' ? 'Latency (p95)' : 'Latency (mean, HAProxy)',
      unit: 'ms',
      canary: t((w) => w.latencyMs, 'canary'),
      baseline: t((w) => w.latencyMs, 'baseline'),
      limits:
        th.maxLatencyRatio !== undefined
          ? [
              {
                label: `${th.maxLatencyRatio}× baseline`,
                points: s.points.map((p) => [
                  p.t,
                  p.baseline.latencyMs !== null && p.baseline.requests >= th.minRequests
                    ? p.baseline.latencyMs * th.maxLatencyRatio!
                    : null,
                ]),
              },
            ]
          : [],
      pending,
      xMax: s.soakSecs,
    },
  ];
  if (th.prometheus && s.points.some((p) => p.prometheus !== undefined))
    specs.push({
      title: 'Prometheus',
      unit: 'num',
      canary: s.points.map((p) => [p.t, p.prometheus ?? null]),
      limits: [
        ...(th.prometheus.max !== undefined
          ? [{ label: `Max ${th.prometheus.max}`, points: [[0, th.prometheus.max]] as Point[] }]
          : []),
        ...(th.prometheus.min !== undefined
          ? [{ label: `Min ${th.prometheus.min}`, points: [[0, th.prometheus.min]] as Point[] }]
          : []),
      ],
      xMax: s.soakSecs,
    });
  const boxes = specs.map((spec) => {
    const box = el('div', { class: 'plot' });
    charts.push({ box, spec });
    return el('div', { class: 'chart', 'data-chart': spec.title }, el('h3', {}, spec.title), box);
  });
  const when = last ? `${Math.round(last.t * 10) / 10} s of the ${s.soakSecs} s soak` : `soak of ${s.soakSecs} s begun`;
  return el(
    'div',
    { class: 'canary-analysis', id: `analysis-${s.backend}`, 'data-backend': s.backend, 'data-verdict': verdict },
    el(
      'div',
      {},
      el('span', { class: `verdict ${verdict}` }, verdict.toUpperCase()),
      ' ',
      el('span', { class: 'addr', 'data-nowrap': '' }, s.backend),
      el('span', { class: 'muted' }, ` ${s.ended ? 'judged over' : 'so far:'} ${when}`),
    ),
    ...(last
      ? [
          el(
            'div',
            { class: 'muted small' },
            `canary ${windowText(last.canary)} · baseline ${windowText(last.baseline)}${
              last.prometheus !== undefined ? ` · Prometheus ${last.prometheus ?? 'no data'}` : ''
            }`,
          ),
        ]
      : []),
    el('div', { class: 'charts' }, ...boxes),
    el(
      'div',
      { class: 'legend' },
      el('span', {}, el('span', { class: 'swatch canary' }), 'canary'),
      el('span', {}, el('span', { class: 'swatch baseline' }), 'baseline'),
      el('span', {}, el('span', { class: 'swatch limit' }), 'limit'),
      el(
        'span',
        { class: 'muted note' },
        `baseline: the backends still on the old version; each point: the soak so far, as judged every ${th.intervalSecs} s; hollow: fewer than ${th.minRequests} requests`,
      ),
    ),
    ...s.reasons.map((r) => el('div', { class: verdict === 'fail' ? 'error' : 'muted' }, r)),
  );
}

function windowText(w: WindowSummary): string {
  return `${w.requests} requests, ${w.errorRate === null ? '-' : formatValue(w.errorRate, 'pct')} errors, ${w.latencyKind} ${w.latencyMs === null ? '-' : formatValue(w.latencyMs, 'ms')}`;
}

export function drawAll(charts: readonly DrawnChart[]): void {
  for (const c of charts) if (c.box.isConnected) drawChart(c.box, c.spec);
}
