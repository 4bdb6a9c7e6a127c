// One backend per row: its address (a canary badge), the step strip and the step as the log names
// it, what it serves now, whether the LB sends it traffic, and that traffic. Clicking a row opens its
// details: the agent, what it ran before, each step's time, the whole error. The layout reflows by
// the panel's width (style.ts); no address or header ever breaks inside.
import { stepNames, type StepName } from '../../core/rollout/constants';
import type { BackendRow } from '../../core/rollout/progress';
import type { BackendRate } from '../../core/rollout/liveTraffic';
import { el } from './dom';
import type { RowNow } from './protocol';

/** what each step does, for its tooltip (the strip and the log use the steps' own names) */
const stepWords: Record<StepName, string> = {
  findApp: 'ask the agent what runs',
  rmBackend: 'drain it from the load balancer',
  jobKill: 'stop the old program',
  cp: 'install the package through the agent',
  jobStart: 'start the new program',
  reachable: 'wait for its health check',
  addBackend: 'put it back into the load balancer',
};

export function headerRow(): HTMLElement {
  const h = (cls: string, text: string) => el('span', { class: cls, 'data-nowrap': '' }, text);
  return el(
    'div',
    { class: 'bk-head', role: 'row' },
    h('h-addr', 'Backend'),
    h('h-prog', 'Progress'),
    h('h-now', 'Serves'),
    h('h-lb', 'LB'),
    h('h-traffic', 'Traffic'),
  );
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** a canary's soak, after its steps: 'failed' when its steps all passed and it failed after them */
function soakState(r: BackendRow, soaking: boolean): 'done' | 'running' | 'failed' | 'pending-soak' | null {
  if (!r.canary) return null;
  if (r.soaked) return 'done';
  if (soaking) return 'running';
  if (r.phase === 'failed' && r.durations.addBackend !== undefined) return 'failed';
  return 'pending-soak';
}

function strip(r: BackendRow, soak: ReturnType<typeof soakState>): HTMLElement {
  const idx = r.step ? stepNames.indexOf(r.step) : -1;
  const s = el('div', { class: 'strip', 'aria-hidden': 'true' });
  const stepsDone = r.phase === 'done' || soak === 'failed' || soak === 'running';
  stepNames.forEach((name, i) => {
    const cls = stepsDone || i < idx ? 'done' : i === idx ? r.phase : '';
    const took = r.durations[name];
    s.append(
      el('span', {
        class: cls,
        'data-step': name,
        title: `${name}: ${stepWords[name]}${took !== undefined ? ` (${secs(took)})` : ''}`,
      }),
    );
  });
  if (soak)
    s.append(
      el('span', {
        class: `soak ${soak}`,
        'data-step': 'soak',
        title: 'soak: the canary serves while its traffic is judged against the baseline',
      }),
    );
  return s;
}

/** the step in the log's words: `cp …`, `reachable ✗`, `done ✓ 3.1 s` */
function stepText(r: BackendRow, soak: ReturnType<typeof soakState>): string {
  const ms = Object.values(r.durations).reduce((a, b) => a + (b ?? 0), 0);
  if (soak === 'running') return 'soak …';
  if (soak === 'failed') return 'soak ✗';
  if (r.phase === 'done') return `done ✓ ${secs(ms)}`;
  if (!r.step) return 'pending';
  if (r.phase === 'failed') return `${r.step} ✗${r.attempts > 1 ? ` (${r.attempts} tries)` : ''}`;
  if (r.phase === 'running') return `${r.step} …${r.attempts > 1 ? ` (try ${r.attempts})` : ''}`;
  return r.step;
}

/** `12.5/s · 0.0 % · p95 3.1 ms` */
export function rateText(r: BackendRate | undefined): string {
  if (!r) return '';
  const ms = r.latencyMs === null ? '-' : `${r.latencyMs < 10 ? r.latencyMs.toFixed(1) : Math.round(r.latencyMs)} ms`;
  return `${r.reqPerSec}/s · ${r.errorPct === null ? '-' : `${r.errorPct.toFixed(1)} %`} · ${r.latencyKind} ${ms}`;
}

export interface RowData {
  row: BackendRow;
  now?: RowNow;
  agent?: string;
  rate?: BackendRate;
  /** the package the rollout installs, as a person knows it */
  to: string;
  /** its soak runs now (a canary) */
  soaking: boolean;
  open: boolean;
}

export function backendRow(d: RowData, toggle: (addr: string, open: boolean) => void): HTMLElement {
  const r = d.row;
  const now = d.now ?? { text: '', tone: 'none' as const };
  const soak = soakState(r, d.soaking);
  const main = el(
    'div',
    { class: 'bk-main', role: 'button', tabindex: '0', 'aria-expanded': String(d.open), title: 'Details' },
    el(
      'div',
      { class: 'c-addr' },
      el('span', { class: 'chev', 'aria-hidden': 'true' }, '›'),
      el('span', { class: 'addr', 'data-nowrap': '' }, r.addr),
      ...(r.canary ? [el('span', { class: 'canary-badge' }, 'canary')] : []),
    ),
    el('div', { class: 'c-prog' }, strip(r, soak), el('div', { class: 'step ellipsis' }, stepText(r, soak))),
    el('div', { class: `c-now now ${now.tone} ellipsis`, title: now.note ?? now.text }, now.text),
    el(
      'div',
      {
        class: `c-lb lb-${r.lb}`,
        title: r.lb === 'in' ? 'in the load balancer' : r.lb === 'out' ? 'out of the load balancer' : 'unknown',
      },
      r.lb,
    ),
    el('div', { class: 'c-traffic ellipsis', title: d.rate ? trafficTitle(d.rate) : '' }, rateText(d.rate)),
    ...(r.error && r.phase === 'failed' ? [el('div', { class: 'row-error ellipsis', title: r.error }, r.error)] : []),
  );
  const more = el('div', { class: 'bk-more' }, details(d));
  const node = el(
    'div',
    { class: `bk${d.open ? ' open' : ''}`, 'data-backend': r.addr, 'data-phase': r.phase, 'data-now': now.tone },
    main,
    more,
  );
  const flip = () => {
    const open = !node.classList.contains('open');
    node.classList.toggle('open', open);
    main.setAttribute('aria-expanded', String(open));
    toggle(r.addr, open);
  };
  main.addEventListener('click', (e) => {
    // selecting text in a row is not a click on it
    if (!window.getSelection()?.toString()) flip();
    e.stopPropagation();
  });
  main.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      flip();
    }
  });
  return node;
}

function trafficTitle(r: BackendRate): string {
  return `${r.reqPerSec} requests a second, ${r.errorPct === null ? 'no' : `${r.errorPct.toFixed(1)} %`} errors, ${r.latencyKind} latency ${r.latencyMs ?? '-'} ms`;
}

function details(d: RowData): HTMLElement {
  const r = d.row;
  const dl = el('dl');
  const add = (k: string, v: string | Node, attrs: Record<string, string> = {}) =>
    dl.append(el('dt', {}, k), el('dd', attrs, v));
  if (d.agent) add('Agent', d.agent, { class: 'agent', 'data-nowrap': '' });
  if (d.now?.text) add('Serves', `${d.now.text}${d.now.note ? ` (${d.now.note})` : ''}`);
  if (r.from) {
    const name = d.now?.before ?? (r.from.sha256 ? r.from.sha256.slice(0, 12) : 'nothing');
    const sha = r.from.sha256?.slice(0, 12);
    const when = r.from.installedAt?.slice(0, 16).replace('T', ' ');
    add(
      'Before',
      `${name}${sha && !name.startsWith(sha.slice(0, 8)) ? ` (${sha})` : ''}${when ? `, installed ${when}` : ''}`,
    );
  }
  add('Package', d.to);
  const took = stepNames.filter((n) => r.durations[n] !== undefined).map((n) => `${n} ${secs(r.durations[n]!)}`);
  if (took.length) add('Steps', took.join(' · '));
  if (r.attempts > 1) add('Attempts', String(r.attempts));
  if (r.phase !== 'done' && r.next !== 'findApp' && r.next !== 'done') add('Resumes at', r.next);
  if (r.error) add('Error', r.error, { class: 'error' });
  return dl;
}
