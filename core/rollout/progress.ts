// A rollout's progress as the panel shows it, folded from journal events: one row per backend
// (its current step of the seven, durations, last error, LB state), the end state, a log. Pure:
// the same fold restores the panel after a window reload.
import type { JournalEvent } from './journal';
import type { StepName } from './steps';

export type RowPhase = 'pending' | 'running' | 'failed' | 'done';

export interface BackendRow {
  addr: string;
  canary: boolean;
  step: StepName | null;
  phase: RowPhase;
  /** ms each finished step took */
  durations: Partial<Record<StepName, number>>;
  startedAt?: string;
  error?: string;
  lb: 'in' | 'out' | 'unknown';
  attempts: number;
}

export interface RolloutProgress {
  id: string | null;
  status: 'idle' | 'running' | 'paused' | 'ended';
  endState?: string;
  endError?: string;
  failures: number;
  rows: BackendRow[];
  log: string[];
}

export function emptyProgress(backends: readonly string[], canaries: number): RolloutProgress {
  return {
    id: null,
    status: 'idle',
    failures: 0,
    rows: backends.map((addr, i) => ({ addr, canary: i < canaries, step: null, phase: 'pending', durations: {}, lb: 'in', attempts: 0 })),
    log: [],
  };
}

const maxLog = 500;

export function applyEvent(p: RolloutProgress, e: JournalEvent): RolloutProgress {
  const rows = p.rows.map((r) => ({ ...r, durations: { ...r.durations } }));
  const row = (addr: string) => rows.find((r) => r.addr === addr);
  let { status, endState, endError, failures, id } = p;
  let line = '';
  switch (e.t) {
    case 'plan':
      id = e.id;
      status = 'running';
      rows.forEach((r) => (r.canary = e.canaries.includes(r.addr)));
      line = `plan: canaries ${e.canaries.join(', ') || 'none'}; then ${e.rest.length} backend(s), ${e.concurrency} at a time`;
      break;
    case 'resume':
      status = 'running';
      endState = undefined;
      line = 'resumed from the journal';
      break;
    case 'step': {
      const r = row(e.backend);
      if (!r) break;
      r.step = e.step;
      r.attempts = e.attempt;
      if (e.phase === 'start') {
        r.phase = 'running';
        r.startedAt = e.at;
        if (e.step === 'rmBackend') r.lb = 'out';
      } else if (e.phase === 'done') {
        if (r.startedAt) r.durations[e.step] = Date.parse(e.at) - Date.parse(r.startedAt);
        if (e.step === 'addBackend') r.lb = 'in';
        r.phase = e.next === 'done' ? 'done' : 'running';
        if (e.next && e.next !== 'done') r.step = e.next;
      } else {
        r.phase = 'failed';
        r.error = e.error;
      }
      line = `${e.backend} ${e.step} ${e.phase}${e.error ? `: ${e.error}` : ''}`;
      break;
    }
    case 'backend': {
      const r = row(e.backend);
      if (r) {
        r.phase = e.result === 'done' ? 'done' : 'failed';
        if (e.error) r.error = e.error;
        if (e.result === 'done') r.step = 'addBackend';
      }
      if (e.result === 'failed') failures++;
      line = `${e.backend} ${e.result === 'done' ? 'upgraded' : `failed: ${e.error}`}`;
      break;
    }
    case 'finalize': {
      const r = row(e.backend);
      if (r && /put back/.test(e.action)) r.lb = 'in';
      line = `${e.backend} finaliser: ${e.action}`;
      break;
    }
    case 'note':
      line = `${e.backend} note: ${e.text}`;
      break;
    case 'soak':
      line = `${e.backend} soak ${e.phase === 'start' ? `for ${e.secs}s` : 'done'}`;
      break;
    case 'paused':
      status = 'paused';
      line = 'paused at a safe point';
      break;
    case 'end':
      status = 'ended';
      endState = e.state;
      endError = e.error;
      line = `end state: ${e.state}${e.error ? ` (${e.error})` : ''}`;
      break;
  }
  const log = line ? [...p.log, `${e.at.slice(11, 19)} ${line}`].slice(-maxLog) : p.log;
  return { id, status, endState, endError, failures, rows, log };
}

export function foldProgress(backends: readonly string[], canaries: number, events: readonly JournalEvent[]): RolloutProgress {
  return events.reduce(applyEvent, emptyProgress(backends, canaries));
}
