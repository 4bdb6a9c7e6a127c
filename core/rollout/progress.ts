// The one reading of a rollout journal: events folded into progress (each backend's row, where a
// resume continues, the end state) by applyEvent, and each event in words by describeEvent. The
// workflow resumes from it, the CLI prints it, the panel and the editor's output show it.
import { advice } from '../advice';
import type { EndState, RowPhase, StepName } from './constants';
import { describeWindow, type Verdict, type WindowSummary } from './analysis';
import type { JournalEvent } from './journal';

export interface BackendRow {
  addr: string;
  canary: boolean;
  /** the step shown: the one running, the one that failed, or the last one done */
  step: StepName | null;
  /** where this backend continues when the rollout resumes */
  next: StepName | 'done';
  phase: RowPhase;
  /** the backend's last result in this journal (a failed one may be retried by a resume) */
  result?: 'done' | 'failed';
  /** ms each finished step took */
  durations: Partial<Record<StepName, number>>;
  startedAt?: string;
  error?: string;
  lb: 'in' | 'out' | 'unknown';
  attempts: number;
  /** a canary whose soak finished */
  soaked: boolean;
  /** what it ran before the rollout touched it (sha256 null: nothing) */
  from?: { sha256: string | null; version?: string; installedAt?: string };
  /** the canary's latest analysis */
  analysis?: {
    verdict: Verdict;
    final: boolean;
    canary: WindowSummary;
    baseline: WindowSummary;
    prometheus?: { query: string; value: number | null };
    reasons: string[];
  };
}

export interface RolloutProgress {
  /** the journal's rollout id; null before a plan */
  id: string | null;
  /** the package the journal rolls out */
  sha256: string | null;
  status: 'idle' | 'running' | 'paused' | 'ended';
  endState?: EndState;
  endError?: string;
  /** backends whose last result is failed */
  failures: number;
  /** every canary upgraded and soaked: a resume goes on with the rest */
  canaryPhaseDone: boolean;
  rows: BackendRow[];
  /** the newest events in words (at most 500) */
  log: string[];
  /** when the plan (or the latest resume) was journaled, and the end */
  startedAt?: string;
  endedAt?: string;
}

export function emptyProgress(backends: readonly string[], canaries: number): RolloutProgress {
  return {
    id: null,
    sha256: null,
    status: 'idle',
    failures: 0,
    canaryPhaseDone: canaries === 0,
    rows: backends.map((addr, i) => ({
      addr,
      canary: i < canaries,
      step: null,
      next: 'findApp',
      phase: 'pending',
      durations: {},
      lb: 'in',
      attempts: 0,
      soaked: false,
    })),
    log: [],
  };
}

const maxLog = 500;

export function applyEvent(p: RolloutProgress, e: JournalEvent): RolloutProgress {
  const rows = p.rows.map((r) => ({ ...r, durations: { ...r.durations } }));
  const row = (addr: string) => rows.find((r) => r.addr === addr);
  let { status, endState, endError, id, sha256, startedAt, endedAt } = p;
  switch (e.t) {
    case 'plan':
      id = e.id;
      sha256 = e.sha256;
      status = 'running';
      startedAt = e.at;
      rows.forEach((r) => (r.canary = e.canaries.includes(r.addr)));
      break;
    case 'resume':
      status = 'running';
      endState = undefined;
      endError = undefined;
      endedAt = undefined;
      startedAt ??= e.at;
      break;
    case 'step': {
      const r = row(e.backend);
      if (!r) break;
      r.step = e.step;
      r.attempts = e.attempt;
      if (e.phase === 'start') {
        r.phase = 'running';
        r.next = e.step;
        r.startedAt = e.at;
        if (e.step === 'rmBackend') r.lb = 'out';
      } else if (e.phase === 'done') {
        if (r.startedAt) r.durations[e.step] = Date.parse(e.at) - Date.parse(r.startedAt);
        if (e.step === 'addBackend') r.lb = 'in';
        r.next = e.next ?? 'done';
        r.phase = r.next === 'done' ? 'done' : 'running';
        if (r.next !== 'done') r.step = r.next;
      } else {
        r.phase = 'failed';
        r.next = e.step;
        r.error = e.error;
      }
      break;
    }
    case 'backend': {
      const r = row(e.backend);
      if (!r) break;
      r.result = e.result;
      r.phase = e.result;
      if (e.error) r.error = e.error;
      if (e.result === 'done') {
        r.step = 'addBackend';
        r.next = 'done';
      }
      break;
    }
    case 'finalize': {
      const r = row(e.backend);
      if (r && e.outcome === 'readded') r.lb = 'in';
      // rolled back to its previous version: a resume must install again, from the first step
      if (r && e.outcome === 'rolledBack') r.next = 'findApp';
      break;
    }
    case 'soak': {
      const r = row(e.backend);
      if (r && e.phase === 'done') r.soaked = true;
      break;
    }
    case 'paused':
      status = 'paused';
      break;
    case 'end':
      status = 'ended';
      endState = e.state;
      endError = e.error;
      endedAt = e.at;
      break;
    case 'found': {
      const r = row(e.backend);
      if (r && !r.from)
        r.from = {
          sha256: e.sha256,
          ...(e.version ? { version: e.version } : {}),
          ...(e.installedAt ? { installedAt: e.installedAt } : {}),
        };
      break;
    }
    case 'analysis': {
      const r = row(e.backend);
      if (r)
        r.analysis = {
          verdict: e.verdict,
          final: e.final,
          canary: e.canary,
          baseline: e.baseline,
          ...(e.prometheus ? { prometheus: e.prometheus } : {}),
          reasons: e.reasons,
        };
      break;
    }
    case 'note':
    case 'lease':
      break;
  }
  const canaries = rows.filter((r) => r.canary);
  return {
    id,
    sha256,
    status,
    endState,
    endError,
    failures: rows.filter((r) => r.result === 'failed').length,
    canaryPhaseDone: canaries.every((r) => r.result === 'done' && r.soaked),
    rows,
    log: [...p.log, `${e.at.slice(11, 19)} ${describeEvent(e)}`].slice(-maxLog),
    ...(startedAt ? { startedAt } : {}),
    ...(endedAt ? { endedAt } : {}),
  };
}

export function foldProgress(
  backends: readonly string[],
  canaries: number,
  events: readonly JournalEvent[],
): RolloutProgress {
  return events.reduce(applyEvent, emptyProgress(backends, canaries));
}

/** one event in words, as the CLI prints it and the panel and the output channel log it */
export function describeEvent(e: JournalEvent): string {
  const who = (b: string) => b.padEnd(21);
  switch (e.t) {
    case 'plan':
      return `plan: canaries ${e.canaries.join(', ') || 'none'}; then ${e.rest.length} backend(s), ${e.concurrency} at a time${e.maxUnavailable !== undefined ? `, at most ${e.maxUnavailable} out of service` : ''}`;
    case 'resume':
      return 'resuming from the journal';
    case 'step':
      return `${who(e.backend)} ${e.step.padEnd(10)} ${e.phase}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}${e.error ? `: ${e.error}` : ''}`;
    case 'backend':
      return `${who(e.backend)} ${e.result === 'done' ? 'upgraded' : `FAILED: ${e.error}`}`;
    case 'soak':
      return `${who(e.backend)} soak ${e.phase === 'start' ? `for ${e.secs}s` : 'done'}`;
    case 'finalize':
      return `${who(e.backend)} finaliser: ${finalizeWords[e.outcome](e.detail)}`;
    case 'note':
      return `${who(e.backend)} note: ${e.text}`;
    case 'found':
      return `${who(e.backend)} runs ${e.sha256 ? `${e.sha256.slice(0, 12)}${e.installedAt ? ` (installed ${e.installedAt.slice(0, 16).replace('T', ' ')})` : ''}` : 'nothing of this package yet'}`;
    case 'analysis':
      return `${who(e.backend)} analysis ${e.final ? 'final' : 'so far'}: ${e.verdict.toUpperCase()}; canary ${describeWindow(e.canary)}; baseline ${describeWindow(e.baseline)}${e.prometheus ? `; prometheus ${e.prometheus.value ?? 'no data'}` : ''}${e.reasons.length ? ` (${e.reasons.join('; ')})` : ''}`;
    case 'paused':
      return 'paused at a safe point';
    case 'lease':
      return `lease ${e.phase} on ${e.agents} agent(s)${e.phase === 'taken' ? ` for ${e.ttlSecs} s at a time, renewed while it runs` : ''}${e.detail ? `: ${e.detail}` : ''}`;
    case 'end':
      return `end state: ${e.state}${e.error ? ` (${e.error})` : ''}${
        e.state === 'ESSuccess' && e.failures > 0
          ? ` with ${e.failures} failed backend(s) within MaxFailures; ${advice().resume}`
          : ''
      }`;
  }
}

const finalizeWords: Record<Extract<JournalEvent, { t: 'finalize' }>['outcome'], (detail: string) => string> = {
  readded: () => 'healthy: put back into the LB',
  leftOut: (d) => `left out of the LB: ${d}`,
  rolledBack: (d) => `rolled back to ${d}`,
  error: (d) => d,
};

/** `11 s`, `2 min 5 s` */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
}

/**
 * How a rollout ended, as a person says it (`Succeeded: 4/4 upgraded in 11 s`); the seed's name
 * (ESSuccess…) stays in the journal and in the panel's tooltip. Undefined while it has not ended.
 */
export function describeEnd(p: RolloutProgress): string | undefined {
  if (!p.endState) return undefined;
  const total = p.rows.length;
  const done = p.rows.filter((r) => r.result === 'done').length;
  const took = p.startedAt && p.endedAt ? ` in ${formatDuration(Date.parse(p.endedAt) - Date.parse(p.startedAt))}` : '';
  const failed = p.rows.filter((r) => r.result === 'failed');
  const short = (t?: string) => (t && t.length > 160 ? `${t.slice(0, 157)}…` : (t ?? ''));
  switch (p.endState) {
    case 'ESSuccess':
      return `Succeeded: ${done}/${total} upgraded${took}${failed.length ? `; ${failed.length} failed within MaxFailures (Resume retries them)` : ''}`;
    case 'ESCanaryFailure': {
      const c = failed.find((r) => r.canary) ?? failed[0];
      return `Stopped at the canary${c ? ` ${c.addr}` : ''}: ${short(c?.error ?? p.endError) || 'it failed'}`;
    }
    case 'ESMaxFailures':
      return `Stopped after ${failed.length} failures, more than MaxFailures allows: ${done}/${total} upgraded${took}`;
    case 'ESPreconditionFailure':
      return `Refused before any change: ${short(p.endError)}`;
    case 'Aborted':
      return `Aborted: ${done}/${total} upgraded${took}`;
  }
}
