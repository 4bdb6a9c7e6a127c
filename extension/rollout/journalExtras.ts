// What the panel shows beyond the progress rows, read from the same journal events: each canary's
// analysis as a series (one point per look, for the chart, live during the soak and kept after) and
// what the finaliser did to each backend (rolled back, left out), so a row can say what it serves
// now. Pure of vscode: events in, plain data out.
import type { Verdict, WindowSummary } from '../../core/rollout/analysis';
import type { FinalizeOutcome } from '../../core/rollout/constants';
import type { JournalEvent } from '../../core/rollout/journal';

export interface CanaryPoint {
  /** seconds since the soak began */
  t: number;
  /** the window judged at this look: since the soak began */
  canary: WindowSummary;
  baseline: WindowSummary;
  /** the Prometheus query's number (null: no data), when one is configured */
  prometheus?: number | null;
  verdict: Verdict;
  final: boolean;
}

export interface CanarySeries {
  backend: string;
  soakSecs: number;
  /** when the soak began (ISO) */
  startedAt: string;
  /** the soak ended: at its end, or early by a failing verdict */
  ended: boolean;
  points: CanaryPoint[];
  /** why the analysis failed or warned, from its last look */
  reasons: string[];
}

export interface BackendFinal {
  /** rolled back to this version id (the agent's) */
  rolledBackTo?: string;
  /** left out of the LB: why */
  leftOut?: string;
  /** the rollback or the re-add failed: why */
  error?: string;
}

export interface JournalExtras {
  canaries: CanarySeries[];
  /** what the finaliser (or a failed backend's recovery) did to each backend since its last step */
  finals: Record<string, BackendFinal>;
}

/** series kept per rollout: a canary soaked again after a resume starts a new one */
const maxSeries = 8;
/** points kept per series: a day's soak judged every second is bounded */
const maxPoints = 600;

export function emptyExtras(): JournalExtras {
  return { canaries: [], finals: {} };
}

/** folds one event in; returns the same object, changed */
export function applyExtra(x: JournalExtras, e: JournalEvent): JournalExtras {
  switch (e.t) {
    case 'plan':
      x.canaries = [];
      x.finals = {};
      break;
    case 'step':
      if (e.phase === 'start') delete x.finals[e.backend];
      break;
    case 'finalize': {
      const f = (x.finals[e.backend] ??= {});
      const key: Record<FinalizeOutcome, keyof BackendFinal | null> = {
        rolledBack: 'rolledBackTo',
        leftOut: 'leftOut',
        error: 'error',
        readded: null,
      };
      const k = key[e.outcome];
      if (k) f[k] = e.detail;
      else delete f.leftOut;
      break;
    }
    case 'soak':
      if (e.phase === 'start') {
        x.canaries.push({
          backend: e.backend,
          soakSecs: e.secs,
          startedAt: e.at,
          ended: false,
          points: [],
          reasons: [],
        });
        if (x.canaries.length > maxSeries) x.canaries.shift();
      } else {
        const s = current(x, e.backend);
        if (s) s.ended = true;
      }
      break;
    case 'analysis': {
      const s = current(x, e.backend);
      if (!s) break;
      s.points.push({
        t: Math.max(0, (Date.parse(e.at) - Date.parse(s.startedAt)) / 1000),
        canary: e.canary,
        baseline: e.baseline,
        ...(e.prometheus ? { prometheus: e.prometheus.value } : {}),
        verdict: e.verdict,
        final: e.final,
      });
      if (s.points.length > maxPoints) s.points.splice(0, s.points.length - maxPoints);
      s.reasons = e.reasons;
      if (e.final || e.verdict === 'fail') s.ended = true;
      break;
    }
    case 'backend': {
      const s = current(x, e.backend);
      if (s && e.result === 'failed') s.ended = true;
      break;
    }
    case 'end':
    case 'paused':
      for (const s of x.canaries) s.ended = true;
      break;
    default:
      break;
  }
  return x;
}

export function foldExtras(events: readonly JournalEvent[]): JournalExtras {
  return events.reduce(applyExtra, emptyExtras());
}

function current(x: JournalExtras, backend: string): CanarySeries | undefined {
  for (let i = x.canaries.length - 1; i >= 0; i--) if (x.canaries[i].backend === backend) return x.canaries[i];
  return undefined;
}
