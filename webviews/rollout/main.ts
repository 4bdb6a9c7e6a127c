// The rollout panel's browser code: renders PanelState and sends the buttons' intents. No logic
// beyond presentation: every decision is the extension's (and core's).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-divider/index.js';
import { stepNames } from '../../core/rollout/constants';
import type { BackendRow } from '../../core/rollout/progress';
import type { WindowSummary } from '../../core/rollout/analysis';
import type { BackendRate } from '../../core/rollout/liveTraffic';
import { el, KeyedRows, LogView, Slot } from './dom';
import type { FromWebview, PanelState, ToWebview } from './protocol';

declare function acquireVsCodeApi(): {
  postMessage(m: FromWebview): void;
  setState(s: unknown): void;
  getState(): unknown;
};
const vscode = acquireVsCodeApi();
// the file this panel shows, saved at once: VS Code restores the panel after a reload from this state
vscode.setState({ file: document.body.dataset.file });

const style = document.createElement('style');
style.textContent = `
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 12px; }
h2 { font-size: 1.1em; margin: 12px 0 4px; }
.summary { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; }
.summary dt { color: var(--vscode-descriptionForeground); }
.buttons { display: flex; gap: 8px; margin: 12px 0; }
.error { color: var(--vscode-errorForeground); cursor: pointer; text-decoration: underline; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: 3px 8px 3px 0; vertical-align: top; overflow-wrap: anywhere; }
.progress { height: 6px; border-radius: 3px; background: var(--vscode-editorWidget-border, #8884); margin: 4px 0 2px; }
.progress div { height: 100%; border-radius: 3px; background: var(--vscode-progressBar-background, #07f); }
.progress.bad div { background: var(--vscode-testing-iconFailed, #d33); }
.issues li { margin: 4px 0; }
.issues .link { cursor: pointer; text-decoration: underline; }
.small { font-size: 0.9em; }
th { color: var(--vscode-descriptionForeground); font-weight: normal; }
.strip { display: flex; gap: 2px; flex-wrap: wrap; }
.strip span { font-size: 0.75em; padding: 0 3px; border-radius: 2px; background: var(--vscode-editorWidget-border, #8884); color: var(--vscode-foreground); }
.strip span.done { background: var(--vscode-testing-iconPassed, #3a3); color: var(--vscode-editor-background, #fff); }
.strip span.running { background: var(--vscode-progressBar-background, #07f); color: var(--vscode-editor-background, #fff); }
.strip span.failed { background: var(--vscode-testing-iconFailed, #d33); color: var(--vscode-editor-background, #fff); }
.banner { padding: 8px 12px; margin: 12px 0; border-radius: 4px; border: 1px solid var(--vscode-editorWidget-border); }
.banner.ESSuccess { border-color: var(--vscode-testing-iconPassed); }
.banner.bad { border-color: var(--vscode-testing-iconFailed); }
.traffic { font-variant-numeric: tabular-nums; min-width: 9em; }
.verdict { font-weight: bold; }
.verdict.FAIL { color: var(--vscode-testing-iconFailed, #d33); }
.verdict.PASS { color: var(--vscode-testing-iconPassed, #3a3); }
.verdict.WARN { color: var(--vscode-editorWarning-foreground, #c90); }
.analysis { margin: 8px 0; }
pre.log { max-height: 240px; overflow: auto; background: var(--vscode-textCodeBlock-background); padding: 6px; font-family: var(--vscode-editor-font-family); font-size: 0.9em; }
.muted { color: var(--vscode-descriptionForeground); }
`;
document.head.appendChild(style);

/** a button made once; `setButton` enables it or not, so a click never lands on a node being replaced */
function button(label: string, type: FromWebview['type'], secondary = false): HTMLElement {
  const b = el('vscode-button', { 'data-action': type, ...(secondary ? { secondary: '' } : {}), disabled: '' }, label);
  b.addEventListener('click', () => !b.hasAttribute('disabled') && vscode.postMessage({ type } as FromWebview));
  return b;
}

function setButton(b: HTMLElement, enabled: boolean): void {
  if (enabled) b.removeAttribute('disabled');
  else b.setAttribute('disabled', '');
}

/** what each step does, in a word: the strip's labels */
const stepLabels: Record<(typeof stepNames)[number], string> = {
  findApp: 'find',
  rmBackend: 'drain',
  jobKill: 'stop',
  cp: 'install',
  jobStart: 'start',
  reachable: 'health',
  addBackend: 'add',
};

function strip(r: BackendRow): HTMLElement {
  const idx = r.step ? stepNames.indexOf(r.step) : -1;
  const s = el('div', { class: 'strip', title: r.step ? `${r.step} (${r.phase})` : 'pending' });
  stepNames.forEach((name, i) => {
    const cls = r.phase === 'done' || i < idx ? 'done' : i === idx ? r.phase : '';
    s.append(el('span', { class: cls, title: name, 'data-step': name }, stepLabels[name]));
  });
  return s;
}

/** `169e8140 → 48a375b5`: what the backend ran before, and the package it gets */
function fromTo(r: BackendRow, to: string | null | undefined): string {
  if (!r.from) return '';
  const from = r.from.sha256 ? r.from.sha256.slice(0, 8) : 'nothing';
  return `${from} → ${to ? to.slice(0, 8) : '?'}`;
}

const fmtMs = (x: number | null) => (x === null ? '-' : `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`);
const fmtPct = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)} %`);

/** `12.5 req/s · 0.0 % errors · p95 3.1 ms` */
function rateText(r: BackendRate | undefined): string {
  if (!r) return '';
  return `${r.reqPerSec} req/s · ${r.errorPct === null ? '-' : `${r.errorPct.toFixed(1)} %`} errors · ${r.latencyKind} ${fmtMs(r.latencyMs)}`;
}

/** `201 requests, 21.4 % errors, p95 12 ms` */
function windowText(w: WindowSummary): string {
  return `${w.requests} requests, ${fmtPct(w.errorRate)} errors, ${w.latencyKind} ${fmtMs(w.latencyMs)}`;
}

/** the newest canary analysis: its verdict, the canary against the baseline, and why */
function analysisBlock(rows: BackendRow[]): HTMLElement | null {
  const r = [...rows].reverse().find((x) => x.analysis);
  if (!r?.analysis) return null;
  const a = r.analysis;
  const verdict = a.verdict.toUpperCase();
  return el(
    'div',
    { class: 'analysis', id: 'analysis', 'data-verdict': a.verdict },
    el('span', { class: `verdict ${verdict}` }, verdict),
    ` canary ${r.addr} ${a.final ? '(end of soak)' : '(so far)'}`,
    el('div', {}, `canary: ${windowText(a.canary)}`),
    el('div', {}, `baseline: ${windowText(a.baseline)}`),
    ...(a.prometheus ? [el('div', {}, `Prometheus: ${a.prometheus.value ?? 'no data'}`)] : []),
    ...a.reasons.map((t) => el('div', { class: a.verdict === 'fail' ? 'error' : 'muted' }, t)),
  );
}

/** the page's parts, made once: each update changes only what changed in it */
interface Page {
  summary: Slot;
  buttons: Record<'start' | 'pause' | 'resume' | 'abort', HTMLElement>;
  banner: Slot;
  plan: Slot;
  progress: Slot;
  analysis: Slot;
  rows: KeyedRows;
  trafficNote: Slot;
  log: LogView;
}

let page: Page | undefined;
const app = document.getElementById('app')!;

function makePage(): Page {
  const buttons = {
    start: button('Start', 'start'),
    pause: button('Pause', 'pause', true),
    resume: button('Resume', 'resume', true),
    abort: button('Abort', 'abort', true),
  };
  const slot = (attrs: Record<string, string> = {}) => new Slot(el('div', attrs));
  const p: Page = {
    summary: new Slot(el('dl', { class: 'summary' })),
    buttons,
    banner: slot(),
    plan: slot({ class: 'muted' }),
    progress: slot(),
    analysis: slot(),
    rows: new KeyedRows(el('tbody')),
    trafficNote: slot({ class: 'muted' }),
    log: new LogView(el('pre', { class: 'log' })),
  };
  const table = el(
    'table',
    { id: 'backends' },
    el('thead', {}, el('tr', {}, ...['Backend', 'Steps', 'LB', 'Traffic', 'Error'].map((h) => el('th', {}, h)))),
  );
  table.append(p.rows.body);
  app.replaceChildren(
    el('h2', {}, 'Rollout'),
    p.summary.node,
    el('div', { class: 'buttons' }, ...Object.values(buttons)),
    p.banner.node,
    p.plan.node,
    p.progress.node,
    p.analysis.node,
    el('h2', {}, 'Backends'),
    table,
    p.trafficNote.node,
    el('h2', {}, 'Log'),
    p.log.node,
  );
  return p;
}

function renderInvalid(inv: NonNullable<PanelState['invalid']>): void {
  page = undefined;
  const n = Math.max(inv.issues.length, inv.editor?.length ?? 0);
  // the editor's own words and places first (its JSON Schema check), then what Fleet checks beyond it
  const list = el('ul', { class: 'issues', id: 'issues' });
  for (const d of inv.editor ?? []) {
    const item = el('li', { class: 'error link', 'data-line': String(d.line) }, `line ${d.line + 1}: ${d.message}`);
    item.addEventListener('click', () =>
      vscode.postMessage({ type: 'revealAt', line: d.line, character: d.character }),
    );
    list.append(item);
  }
  for (const i of inv.issues) {
    const item = el(
      'li',
      { class: 'error link', 'data-field': i.field },
      i.field ? `${i.field}: ${i.message}` : i.message,
    );
    item.addEventListener('click', () => vscode.postMessage({ type: 'reveal', field: i.field }));
    list.append(item);
  }
  app.replaceChildren(
    el('h2', {}, `service.json has ${n === 1 ? 'a problem' : `${n} problems`}: fix them and save`),
    list,
  );
}

function summaryItems(st: PanelState): Node[] {
  const s = st.summary!;
  const out: Node[] = [];
  const add = (k: string, v: string) => out.push(el('dt', {}, k), el('dd', {}, v));
  add('Package', `${st.packageFile ?? '?'} → ${s.packageName} (${s.sha256.slice(0, 12)})`);
  // where the package comes from and where it goes, resolved: a service.json from someone else's repository shows it here
  if (st.plan) add('Package file', st.plan.src);
  add('Load balancer', st.plan?.lb ?? `${s.lb} ${s.pattern}`);
  add('Backends', String(s.backends));
  add('Canaries', `${s.canaryNum}, soak ${s.soakSecs}s`);
  add('Concurrency', String(s.concurrency));
  add('Max failures', String(s.maxFailures));
  add('Rollback on failure', s.rollbackOnFailure ? 'yes' : 'no');
  if (st.plan?.maxUnavailable !== undefined)
    add('Max unavailable', `${st.plan.maxUnavailable} of ${s.backends}, counting those already out`);
  if (st.plan?.analysis) add('Canary analysis', st.plan.analysis);
  return out;
}

/** the banner under the buttons: how it ended, or why it waits; none while it runs */
function bannerOf(st: PanelState): { cls: string; text: string; title?: string; endState?: string } | null {
  const p = st.progress;
  if (p?.endState)
    return {
      cls: p.endState === 'ESSuccess' ? 'ESSuccess' : 'bad',
      text: st.headline ?? p.endState,
      title: `end state ${p.endState}`,
      endState: p.endState,
    };
  if (p?.status === 'paused') return { cls: '', text: 'Paused at a safe point: Resume continues, Abort ends.' };
  if (st.runningElsewhere)
    return {
      cls: '',
      text: `Running in another process: ${st.runningElsewhere}. This panel shows its journal; it cannot start, pause or resume it.`,
    };
  if (st.interrupted)
    return {
      cls: 'bad',
      text: 'Interrupted: the window went away while this rollout ran. Resume continues at the step where the journal stops.',
    };
  return null;
}

function backendRow(
  r: BackendRow,
  agent: string | undefined,
  sha256: string | null | undefined,
  rate: string,
): HTMLElement {
  const ms = Object.values(r.durations).reduce((a, b) => a + (b ?? 0), 0);
  return el(
    'tr',
    { 'data-backend': r.addr, 'data-phase': r.phase },
    el(
      'td',
      {},
      r.addr,
      ...(r.canary ? [' ', el('vscode-badge', {}, 'canary')] : []),
      ...(agent ? [el('div', { class: 'muted agent small' }, `agent ${agent}`)] : []),
      ...(r.from ? [el('div', { class: 'muted small from' }, fromTo(r, sha256))] : []),
    ),
    el(
      'td',
      {},
      strip(r),
      el(
        'div',
        { class: 'muted small' },
        `${r.step ? `${r.step} ${r.phase === 'done' ? '✓' : r.phase}` : 'pending'}${ms ? ` · ${(ms / 1000).toFixed(1)} s` : ''}`,
      ),
    ),
    el('td', {}, r.lb),
    el('td', { class: 'traffic' }, rate),
    el('td', { class: r.error ? 'error' : '' }, r.error ?? ''),
  );
}

function render(st: PanelState): void {
  if (st.invalid) return renderInvalid(st.invalid);
  if (!st.summary) return;
  page ??= makePage();
  const pg = page;
  pg.summary.show(JSON.stringify([st.summary, st.plan, st.packageFile]), () => summaryItems(st));
  setButton(pg.buttons.start, st.can.start);
  setButton(pg.buttons.pause, st.can.pause);
  setButton(pg.buttons.resume, st.can.resume);
  setButton(pg.buttons.abort, st.can.abort);

  const b = bannerOf(st);
  pg.banner.show(JSON.stringify(b), () => {
    if (!b) return [];
    const attrs: Record<string, string> = { class: `banner ${b.cls}`.trim(), id: 'end-banner' };
    if (b.title) attrs.title = b.title;
    if (b.endState) attrs['data-end-state'] = b.endState;
    return [el('div', attrs, b.text)];
  });

  const plan = st.plan;
  pg.plan.show(JSON.stringify(plan && [plan.canaries, plan.batches]), () =>
    plan
      ? [
          `Plan: canaries ${plan.canaries.join(', ') || 'none'}; then ${plan.batches.map((x) => `[${x.join(', ')}]`).join(' ')}`,
        ]
      : [],
  );

  const p = st.progress;
  const total = p?.rows.length ?? 0;
  const done = p?.rows.filter((r) => r.result === 'done').length ?? 0;
  const bad = p?.endState !== undefined && p.endState !== 'ESSuccess';
  const shown = p && p.status !== 'idle';
  pg.progress.show(JSON.stringify([shown, total, done, bad, p?.failures]), () =>
    shown
      ? [
          el(
            'div',
            { class: `progress${bad ? ' bad' : ''}`, id: 'overall', title: `${done}/${total} upgraded` },
            el('div', { style: `width: ${total ? Math.round((done / total) * 100) : 0}%` }),
          ),
          el('div', { class: 'muted small' }, `${done}/${total} upgraded${p.failures ? `, ${p.failures} failed` : ''}`),
        ]
      : [],
  );

  const rows = p?.rows ?? [];
  const withAnalysis = [...rows].reverse().find((x) => x.analysis);
  pg.analysis.show(JSON.stringify(withAnalysis ? [withAnalysis.addr, withAnalysis.analysis] : null), () => {
    const a = analysisBlock(rows);
    return a ? [el('h2', {}, 'Canary analysis'), a] : [];
  });

  const live = st.traffic && 'backends' in st.traffic ? st.traffic : undefined;
  const rateOf = new Map((live?.backends ?? []).map((x) => [x.backend, rateText(x)]));
  const agentOf = new Map((st.plan?.agents ?? []).map((a) => [a.addr, a.agent]));
  pg.rows.update(
    rows,
    (r) => r.addr,
    (r) => JSON.stringify([r, agentOf.get(r.addr), p?.sha256, rateOf.get(r.addr)]),
    (r) => backendRow(r, agentOf.get(r.addr), p?.sha256, rateOf.get(r.addr) ?? ''),
  );
  const note = live
    ? `Traffic: the last ${live.windowSecs} s, from the LB's counters`
    : st.traffic && 'error' in st.traffic
      ? st.traffic.error
      : '';
  pg.trafficNote.show(note, () => (note ? [note] : []));
  pg.log.update(p?.log ?? []);
}

window.addEventListener('message', (e: MessageEvent<ToWebview>) => {
  if (e.data.type === 'state') render(e.data.state);
});
vscode.postMessage({ type: 'ready' });
