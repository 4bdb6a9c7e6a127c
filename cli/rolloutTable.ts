// `fleet rollout` on a terminal: the rollout as a table redrawn in place (one row per backend: its
// step, how long, whether the LB routes to it), the plan above and the verdict below. A pure
// function of the progress (core/rollout/progress.ts) and the clock; cli/commands/rollout.ts redraws
// it with log-update. Pipes and --json keep the event log.
import { describeWindow } from '../core/rollout/analysis';
import { stepNames } from '../core/rollout/constants';
import { describeEnd, formatDuration, type BackendRow, type RolloutProgress } from '../core/rollout/progress';

export interface TableState {
  /** what is rolled out where: `web-v2.zip → 4 backends (service.json)` */
  title: string;
  /** the plan in one line (describeEvent of the plan) */
  plan?: string;
  /** a Ctrl-C asked for a pause that has not reached its safe point yet */
  pausing?: boolean;
  aborting?: boolean;
}

const mark: Record<BackendRow['phase'], string> = { pending: '·', running: '▸', done: '✓', failed: '✗' };

/**
 * The table, cut to the terminal: each line to `columns`, and when there are more backends than
 * `rows` leaves room for, the running and failed ones are shown and the rest counted in one line.
 */
export function renderRolloutTable(p: RolloutProgress, s: TableState, now: number, columns = 100, rows = 50): string {
  const addrWidth = Math.max(7, ...p.rows.map((r) => r.addr.length));
  const lines = [s.title];
  if (s.plan) lines.push(s.plan);
  lines.push('');
  lines.push(
    `  ${'BACKEND'.padEnd(addrWidth)}  ${'ROLE'.padEnd(6)}  ${'STEP'.padEnd(13)}  ${'TIME'.padStart(6)}  LB   NOTE`,
  );
  const room = Math.max(3, rows - 9);
  const shown = p.rows.length <= room ? p.rows : p.rows.filter((r) => r.phase === 'running' || r.phase === 'failed');
  for (const r of shown.slice(0, room)) {
    const step = r.step ? `${r.step} ${stepNames.indexOf(r.step) + 1}/${stepNames.length}` : '';
    const row =
      `${mark[r.phase]} ${r.addr.padEnd(addrWidth)}  ${(r.canary ? 'canary' : '').padEnd(6)}  ${step.padEnd(13)}  ` +
      `${timeOf(r, now).padStart(6)}  ${r.lb.padEnd(3)}  ${noteOf(r)}`;
    lines.push(cut(row.trimEnd(), columns));
  }
  if (shown.length < p.rows.length) {
    const count = (ph: BackendRow['phase']) => p.rows.filter((r) => r.phase === ph).length;
    lines.push(
      `  … ${p.rows.length - Math.min(shown.length, room)} more: ${count('done')} upgraded, ${count('pending')} pending` +
        (shown.length > room ? `, ${shown.length - room} running or failed` : ''),
    );
  }
  lines.push('');
  lines.push(cut(verdict(p, now), columns));
  if (p.status === 'running')
    lines.push(
      s.aborting
        ? 'Aborting: healthy backends go back into the LB'
        : s.pausing
          ? 'Pausing at a safe point… (Ctrl-C again aborts; fleet rollout --resume continues)'
          : 'Ctrl-C pauses at a safe point',
    );
  return lines.join('\n');
}

function timeOf(r: BackendRow, now: number): string {
  if (r.phase === 'running' && r.startedAt) return formatSeconds(now - Date.parse(r.startedAt));
  const total = Object.values(r.durations).reduce((a, b) => a + (b ?? 0), 0);
  return total > 0 ? formatSeconds(total) : '';
}

function formatSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}

function noteOf(r: BackendRow): string {
  if (r.phase === 'failed' || r.error) return r.error ? `failed: ${r.error}` : 'failed';
  if (r.analysis)
    return `analysis ${r.analysis.final ? '' : 'so far '}${r.analysis.verdict}: ${describeWindow(r.analysis.canary)}`;
  if (r.phase === 'done') return r.from?.version ? `upgraded from ${r.from.version}` : 'upgraded';
  return '';
}

function verdict(p: RolloutProgress, now: number): string {
  const ended = describeEnd(p);
  if (ended) return ended;
  const done = p.rows.filter((r) => r.result === 'done').length;
  const took = p.startedAt ? ` · ${formatDuration(now - Date.parse(p.startedAt))}` : '';
  const state = p.status === 'paused' ? 'Paused' : 'Running';
  return `${state}: ${done}/${p.rows.length} upgraded · ${p.failures} failed${took}`;
}

/** one terminal line: longer ones would wrap and break the redraw's line count */
function cut(line: string, columns: number): string {
  const chars = [...line];
  return chars.length <= columns - 1 ? line : `${chars.slice(0, columns - 2).join('')}…`;
}
