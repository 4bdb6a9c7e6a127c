// How a rollout stands, in sentences a person acts on: what each backend serves now (a rolled-back
// canary serves the old package again, not "old → new"), the banner's sentence ("Rolled back: the
// canary 127.0.0.1:9092 serves web-v1.zip again; 0 of 8 upgraded"), the notification, and what
// Resume would do (or why it would mean nothing). Pure of vscode: the panel and the notification
// say the same thing.
import { stepNames } from '../../core/rollout/constants';
import { formatDuration, type BackendRow, type RolloutProgress } from '../../core/rollout/progress';
import type { BackendFinal } from './journalExtras';

export interface RowNow {
  /** what it serves (or does) now, in a few words: `web-v2.zip`, `web-v1.zip again` */
  text: string;
  tone: 'new' | 'old' | 'bad' | 'busy' | 'none';
  /** one more fact for the tooltip and the details */
  note?: string;
  /** what it ran before the rollout touched it, by name (`web-v1.zip`) */
  before?: string;
}

export interface Outcome {
  tone: 'good' | 'bad' | 'warn' | 'info';
  /** the sentence: what happened and what serves now */
  sentence: string;
  /** why (the failure in the engine's words) */
  detail?: string;
  /** what a person may do next */
  next?: string;
}

export interface OutcomeInput {
  progress: RolloutProgress;
  finals: Readonly<Record<string, BackendFinal>>;
  /** a package's name as a person knows it (`web-v1.zip`), else its sha256's first 8 digits */
  label: (sha256: string | null | undefined) => string;
  interrupted?: boolean;
  maxFailures?: number;
}

const cpIndex = stepNames.indexOf('cp');

/** what one backend serves now, from its row and what the finaliser did to it */
export function rowNow(r: BackendRow, input: Pick<OutcomeInput, 'finals' | 'label' | 'progress'>): RowNow {
  const now = serving(r, input);
  return r.from ? { ...now, before: input.label(r.from.sha256) } : now;
}

function serving(r: BackendRow, input: Pick<OutcomeInput, 'finals' | 'label' | 'progress'>): RowNow {
  const to = input.label(input.progress.sha256);
  const from = r.from ? input.label(r.from.sha256) : undefined;
  const f = input.finals[r.addr];
  if (r.result === 'done' || (r.phase === 'done' && !f?.rolledBackTo)) return { text: to, tone: 'new' };
  if (f?.rolledBackTo)
    return {
      text: from ? `${from} again` : 'its previous version',
      tone: 'old',
      note: `rolled back to ${f.rolledBackTo}${f.leftOut ? `; left out of the LB: ${f.leftOut}` : ''}`,
    };
  if (r.phase === 'failed') {
    const installed = r.step !== null && stepNames.indexOf(r.step) > cpIndex;
    const out = r.lb === 'out' || f?.leftOut;
    return {
      text: out ? 'nothing (out of the LB)' : installed ? `${to}, failed` : (from ?? 'unknown'),
      tone: 'bad',
      note: `failed at ${r.step ?? 'its first step'}${f?.leftOut ? `; left out of the LB: ${f.leftOut}` : ''}`,
    };
  }
  if (r.phase === 'running') return { text: from ? `${from} → ${to}` : `→ ${to}`, tone: 'busy' };
  return from ? { text: from, tone: 'old' } : { text: 'not touched', tone: 'none' };
}

/** the banner's sentence; undefined while a rollout runs or before any */
export function describeOutcome(input: OutcomeInput): Outcome | undefined {
  const p = input.progress;
  const rows = p.rows;
  const total = rows.length;
  const to = input.label(p.sha256);
  const done = rows.filter((r) => r.result === 'done').length;
  const failed = rows.filter((r) => r.result === 'failed');
  const rolledBack = rows.filter((r) => input.finals[r.addr]?.rolledBackTo);
  const untouched = rows.filter((r) => r.phase === 'pending').length;
  const took = p.startedAt && p.endedAt ? ` in ${formatDuration(Date.parse(p.endedAt) - Date.parse(p.startedAt))}` : '';
  const upgraded = `${done} of ${total} upgraded${took}`;
  const others = untouched
    ? `; ${untouched === total ? 'no backend was touched' : `${untouched} backend${untouched === 1 ? ' was' : 's were'} not touched`}`
    : '';
  const back = (list: BackendRow[]) =>
    list.length
      ? `; ${list.length === 1 ? `${list[0].addr} serves ${fromOf(list[0], input)} again` : `${list.length} rolled back to what they ran`}`
      : '';
  const why = (r?: BackendRow) => short(r?.error ?? p.endError);
  if (p.status === 'paused')
    return {
      tone: 'info',
      sentence: `Paused at a safe point: ${done} of ${total} serve ${to}`,
      next: `Resume continues with the ${total - done} left; Abort ends it.`,
    };
  if (input.interrupted)
    return {
      tone: 'warn',
      sentence: `Interrupted: the window went away while this rollout ran; ${done} of ${total} serve ${to}`,
      next: 'Resume continues at the step where the journal stops.',
    };
  switch (p.endState) {
    case undefined:
      return undefined;
    case 'ESSuccess':
      if (!failed.length)
        return { tone: 'good', sentence: `Succeeded: all ${total} backends serve ${to}; ${upgraded}` };
      return {
        tone: 'warn',
        sentence: `Succeeded with ${failed.length} failure${failed.length === 1 ? '' : 's'} within MaxFailures: ${done} of ${total} serve ${to}${back(rolledBack)}`,
        detail: failed.map((r) => `${r.addr}: ${short(r.error)}`).join('\n'),
        next: 'Retry Failed tries the failed backends again, each from the step where it stopped.',
      };
    case 'ESCanaryFailure': {
      const c = failed.find((r) => r.canary) ?? failed[0];
      const head = !c
        ? `Stopped at the canary; ${upgraded}`
        : input.finals[c.addr]?.rolledBackTo
          ? `Rolled back: the canary ${c.addr} serves ${fromOf(c, input)} again; ${upgraded}`
          : `Stopped at the canary: ${c.addr} ${rowNow(c, input).text.startsWith('nothing') ? 'is out of the load balancer' : `still runs ${to}, which failed`}; ${upgraded}`;
      return {
        tone: 'bad',
        sentence: head,
        detail: why(c),
        next: `${untouched ? `The other ${untouched} backend${untouched === 1 ? ' was' : 's were'} not touched. ` : ''}Fix the package, point Src at it, and Start.`,
      };
    }
    case 'ESMaxFailures':
      return {
        tone: 'bad',
        sentence: `Stopped: ${failed.length} backends failed, more than MaxFailures${input.maxFailures === undefined ? '' : ` ${input.maxFailures}`} allows; ${done} of ${total} serve ${to}${back(rolledBack)}${others}`,
        detail: failed.map((r) => `${r.addr}: ${short(r.error)}`).join('\n'),
        next: 'Retry Failed tries the failed backends again; Start begins a new rollout.',
      };
    case 'ESPreconditionFailure':
      return {
        tone: 'bad',
        sentence: 'Refused before any change: every backend serves what it did before',
        detail: why(),
        next: 'Fix what the precondition names, then Start.',
      };
    case 'Aborted':
      return {
        tone: 'warn',
        sentence: `Aborted: ${done} of ${total} serve ${to}${back(rolledBack)}${others}`,
        ...(p.endError && p.endError !== 'rollout aborted' ? { detail: short(p.endError) } : {}),
        next: 'Resume continues it; Start begins again.',
      };
  }
}

function fromOf(r: BackendRow, input: Pick<OutcomeInput, 'label'>): string {
  return r.from ? input.label(r.from.sha256) : 'its previous version';
}

function short(t?: string): string {
  return t && t.length > 300 ? `${t.slice(0, 297)}…` : (t ?? '');
}
