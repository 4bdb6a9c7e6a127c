// The rollout panel's browser code: renders PanelState and sends the buttons' intents. No logic
// beyond presentation: every decision (what a button does, what serves now, the outcome's words) is
// the extension's. The page is made once and updated in place (dom.ts): rows by address, the log
// appended, charts redrawn only when their data or their width changes.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { BackendRate } from '../../core/rollout/liveTraffic';
import { backendRow, headerRow } from './backendRows';
import { canarySection, drawAll, type DrawnChart } from './canaryView';
import { el, KeyedRows, LogView, prose, Slot } from './dom';
import { renderHistory } from './historyView';
import type { FromWebview, Issue, PanelState, ToWebview } from './protocol';
import { css } from './style';

declare function acquireVsCodeApi(): {
  postMessage(m: FromWebview): void;
  setState(s: unknown): void;
  getState(): unknown;
};
const vscode = acquireVsCodeApi();
// the file this panel shows, saved at once: VS Code restores the panel after a reload from this state
vscode.setState({ file: document.body.dataset.file });

const style = document.createElement('style');
style.textContent = css;
document.head.appendChild(style);

type Action = 'start' | 'pause' | 'resume' | 'abort';

/** a button made once; `setButton` enables it or not, so a click never lands on a node being replaced */
function button(label: string, type: Action, secondary = false): HTMLElement {
  const b = el('vscode-button', { 'data-action': type, ...(secondary ? { secondary: '' } : {}), disabled: '' }, label);
  b.addEventListener('click', () => !b.hasAttribute('disabled') && vscode.postMessage({ type }));
  return b;
}

function setButton(b: HTMLElement, enabled: boolean, hint?: { label: string; title: string }): void {
  if (enabled) b.removeAttribute('disabled');
  else b.setAttribute('disabled', '');
  if (hint) {
    if (b.textContent !== hint.label) b.textContent = hint.label;
    b.title = hint.title;
  }
}

/** the page's parts, made once: each update changes only what changed in it */
interface Page {
  title: Slot;
  buttons: Record<Action, HTMLElement>;
  banner: Slot;
  warnings: Slot;
  progress: Slot;
  plan: Slot;
  config: Slot;
  analysis: Slot;
  rows: KeyedRows;
  trafficNote: Slot;
  log: LogView;
}

let page: Page | undefined;
const app = document.getElementById('app')!;
/** rows whose details are open, by address (kept across updates) */
const openRows = new Set<string>();
/** the charts on the page, redrawn when the panel's width changes */
let charts: DrawnChart[] = [];
let configOpen: boolean | undefined;

function makePage(): Page {
  const buttons = {
    start: button('Start', 'start'),
    pause: button('Pause', 'pause', true),
    resume: button('Resume', 'resume', true),
    abort: button('Abort', 'abort', true),
  };
  const slot = (attrs: Record<string, string> = {}) => new Slot(el('div', attrs));
  const p: Page = {
    title: new Slot(el('h1')),
    buttons,
    banner: slot(),
    warnings: slot(),
    progress: slot(),
    plan: slot({ class: 'muted small' }),
    config: slot(),
    analysis: slot({ id: 'analysis' }),
    rows: new KeyedRows(el('div', { class: 'bk-body' })),
    trafficNote: slot({ class: 'muted small' }),
    log: new LogView(el('pre', { class: 'log', tabindex: '0' })),
  };
  app.replaceChildren(
    el('div', { class: 'top' }, p.title.node, el('div', { class: 'buttons' }, ...Object.values(buttons))),
    p.banner.node,
    p.warnings.node,
    p.progress.node,
    p.plan.node,
    p.config.node,
    p.analysis.node,
    el('h2', {}, 'Backends'),
    el('div', { id: 'backends', role: 'table' }, headerRow(), p.rows.body),
    p.trafficNote.node,
    el('h2', {}, 'Log'),
    p.log.node,
  );
  return p;
}

function issueItem(i: Issue): HTMLElement {
  const where = i.line !== undefined ? `line ${i.line + 1}` : '';
  const item = el(
    'li',
    {
      class: i.severity === 'error' ? 'error' : i.severity,
      'data-field': i.field,
      ...(where ? { 'data-line': String(i.line) } : {}),
    },
    ...(where || i.field ? [el('span', { class: 'where' }, [where, i.field].filter(Boolean).join(' · ')), ' '] : []),
    el('span', { class: 'msg' }, ...prose(i.message)),
  );
  item.addEventListener('click', () =>
    vscode.postMessage(
      i.line !== undefined
        ? { type: 'revealAt', line: i.line, character: i.character ?? 0 }
        : { type: 'reveal', field: i.field },
    ),
  );
  return item;
}

function renderInvalid(inv: NonNullable<PanelState['invalid']>): void {
  page = undefined;
  charts = [];
  const n = inv.issues.length || 1;
  const list = el(
    'ul',
    { class: 'issues', id: 'issues' },
    ...(inv.issues.length ? inv.issues : [{ field: inv.field, message: inv.message, severity: 'error' as const }]).map(
      issueItem,
    ),
  );
  app.replaceChildren(
    el(
      'h2',
      {},
      `service.json has ${n === 1 ? 'a problem' : `${n} problems`}: fix ${n === 1 ? 'it' : 'them'} and save`,
    ),
    el('div', { class: 'muted small' }, 'The Problems view lists them too; click one to go there.'),
    list,
  );
}

function summaryItems(st: PanelState): Node[] {
  const s = st.summary!;
  const out: Node[] = [];
  const add = (k: string, v: string | Node) => out.push(el('dt', {}, k), el('dd', {}, v));
  add('Package', `${s.src} → ${s.packageName} (${s.sha256.slice(0, 12)})`);
  add('Load balancer', st.plan?.lb ?? `${s.lb} ${s.pattern}`);
  add('Backends', `${s.backends}; ${s.canaryNum} canar${s.canaryNum === 1 ? 'y' : 'ies'} first, soak ${s.soakSecs} s`);
  add(
    'Concurrency',
    `${s.concurrency} at a time; stop after ${s.maxFailures} failure${s.maxFailures === 1 ? '' : 's'}`,
  );
  add('On failure', s.rollbackOnFailure ? 'roll the backend back' : 'leave it as it is (RollbackOnFailure is off)');
  if (st.plan?.maxUnavailable !== undefined)
    add('Max unavailable', `${st.plan.maxUnavailable} of ${s.backends}, counting those already out`);
  if (st.plan?.analysis) add('Canary analysis', st.plan.analysis);
  return out;
}

/** while it runs: what happens now, in a line */
function runningBanner(st: PanelState): { tone: string; sentence: string } | null {
  const p = st.progress;
  if (st.waiting) return { tone: 'info', sentence: st.waiting };
  if (st.runningElsewhere)
    return {
      tone: 'info',
      sentence: `Running in another process: ${st.runningElsewhere}. This panel shows its journal; it cannot start, pause or resume it.`,
    };
  if (p?.status !== 'running' || st.outcome) return null;
  const busy = p.rows.filter((r) => r.phase === 'running').map((r) => `${r.addr} at ${r.step}`);
  const soaking = st.canaries?.find((c) => !c.ended);
  const done = p.rows.filter((r) => r.result === 'done').length;
  return {
    tone: 'info',
    sentence: `Running: ${done} of ${p.rows.length} serve ${st.packageFile ?? 'the new package'}${
      soaking
        ? `; canary ${soaking.backend} soaking`
        : busy.length
          ? `; ${busy.slice(0, 3).join(', ')}${busy.length > 3 ? '…' : ''}`
          : ''
    }`,
  };
}

function render(st: PanelState): void {
  if (st.invalid) return renderInvalid(st.invalid);
  if (!st.summary) return;
  page ??= makePage();
  const pg = page;
  const p = st.progress;
  pg.title.show(st.packageFile ?? '', () => [`Rollout of ${st.packageFile ?? st.summary!.packageName}`]);
  for (const a of ['start', 'pause', 'resume', 'abort'] as const) setButton(pg.buttons[a], st.can[a], st.hints?.[a]);

  const o = st.outcome ?? runningBanner(st);
  pg.banner.show(JSON.stringify([o, p?.endState]), () => {
    if (!o) return [];
    const attrs: Record<string, string> = { class: `banner ${o.tone}`, id: 'end-banner' };
    if (p?.endState) {
      attrs.title = `end state ${p.endState}`;
      attrs['data-end-state'] = p.endState;
    }
    const full = st.outcome;
    return [
      el(
        'div',
        attrs,
        el('div', { class: 'sentence' }, ...prose(o.sentence)),
        ...(full?.detail ? [el('div', { class: 'detail muted' }, ...prose(full.detail))] : []),
        ...(full?.next ? [el('div', { class: 'next' }, ...prose(full.next))] : []),
      ),
    ];
  });
  pg.warnings.show(JSON.stringify(st.warnings ?? []), () =>
    st.warnings?.length ? [el('ul', { class: 'warnings', id: 'warnings' }, ...st.warnings.map(issueItem))] : [],
  );

  const total = p?.rows.length ?? 0;
  const done = p?.rows.filter((r) => r.result === 'done').length ?? 0;
  const bad = p?.endState !== undefined && p.endState !== 'ESSuccess';
  const shown = p && p.status !== 'idle';
  pg.progress.show(JSON.stringify([shown, total, done, bad, p?.failures]), () =>
    shown
      ? [
          el(
            'div',
            { class: `progress${bad ? ' bad' : ''}`, id: 'overall', title: `${done} of ${total} upgraded` },
            el('div', { style: `width: ${total ? Math.round((done / total) * 100) : 0}%` }),
          ),
          el(
            'div',
            { class: 'muted small' },
            `${done} of ${total} upgraded${p.failures ? `, ${p.failures} failed` : ''}`,
          ),
        ]
      : [],
  );

  const plan = st.plan;
  pg.plan.show(JSON.stringify(plan && [plan.canaries, plan.batches]), () => {
    if (!plan) return [];
    const rest = plan.batches.flat().length;
    return [
      `Plan: ${plan.canaries.length ? `canary ${plan.canaries.join(', ')}, then ` : ''}${rest} backend${rest === 1 ? '' : 's'}, ${st.summary!.concurrency} at a time`,
    ];
  });
  configOpen ??= !p || p.status === 'idle';
  pg.config.show(JSON.stringify([st.summary, st.plan]), () => {
    const d = el(
      'details',
      { class: 'config', ...(configOpen ? { open: '' } : {}) },
      el('summary', {}, 'Configuration'),
      el('dl', { class: 'summary' }, ...summaryItems(st)),
    );
    d.addEventListener('toggle', () => (configOpen = (d as HTMLDetailsElement).open));
    return [d];
  });

  pg.analysis.show(JSON.stringify([st.canaries, st.thresholds]), () => {
    charts = [];
    chartsDirty = true;
    return canarySection(st.canaries ?? [], st.thresholds, charts);
  });
  if (chartsDirty) drawPending();

  const live = st.traffic && 'backends' in st.traffic ? st.traffic : undefined;
  const rateOf = new Map<string, BackendRate>((live?.backends ?? []).map((x) => [x.backend, x]));
  const agentOf = new Map((st.plan?.agents ?? []).map((a) => [a.addr, a.agent]));
  const to = st.journalPackage ?? st.packageFile ?? '';
  const soaking = new Set(
    p?.status === 'running' ? (st.canaries ?? []).filter((c) => !c.ended).map((c) => c.backend) : [],
  );
  pg.rows.update(
    p?.rows ?? [],
    (r) => r.addr,
    (r) => JSON.stringify([r, st.now?.[r.addr], agentOf.get(r.addr), rateOf.get(r.addr), to, soaking.has(r.addr)]),
    (r) =>
      backendRow(
        {
          row: r,
          now: st.now?.[r.addr],
          agent: agentOf.get(r.addr),
          rate: rateOf.get(r.addr),
          to,
          soaking: soaking.has(r.addr),
          open: openRows.has(r.addr),
        },
        (addr, open) => (open ? openRows.add(addr) : openRows.delete(addr)),
      ),
  );
  const note = live
    ? `Traffic: the last ${live.windowSecs} s, from the load balancer's counters`
    : st.traffic && 'error' in st.traffic
      ? st.traffic.error
      : '';
  pg.trafficNote.show(note, () => (note ? [note] : []));
  pg.log.update(p?.log ?? []);
  renderHistory(app, st.fleet);
}

/** charts are drawn once their box is on the page and has a width */
let drawnWidth = 0;
let chartsDirty = false;
function drawPending(): void {
  chartsDirty = false;
  drawnWidth = app.clientWidth;
  drawAll(charts);
}
new ResizeObserver(() => {
  if (Math.abs(app.clientWidth - drawnWidth) >= 4) drawPending();
}).observe(app);

window.addEventListener('message', (e: MessageEvent<ToWebview>) => {
  if (e.data.type === 'state') render(e.data.state);
});
vscode.postMessage({ type: 'ready' });
