// The rollout panel's state, composed from what the manager holds of one service.json: the loaded
// config, the journal's progress and extras, Fleet's checks of the file, live traffic, and whether a
// rollout runs here or elsewhere. Pure of vscode: the manager passes everything in.
import { relative, sep } from 'node:path';
import type { LoadedService } from '../../core/rollout/config';
import type { ServiceDiagnostic } from '../../core/rollout/diagnostics';
import type { LiveTraffic } from '../../core/rollout/liveTraffic';
import { makePlan } from '../../core/rollout/plan';
import type { RolloutProgress } from '../../core/rollout/progress';
import type { Issue, PanelState } from '../../webviews/rollout/protocol';
import { buttons } from './buttonHints';
import type { JournalExtras } from './journalExtras';
import { describeOutcome, rowNow, type RowNow } from './outcome';

export interface PanelInput {
  file: string;
  svc?: LoadedService;
  invalid?: PanelState['invalid'];
  warnings?: Issue[];
  progress?: RolloutProgress;
  extras: JournalExtras;
  traffic?: LiveTraffic | { error: string };
  running: boolean;
  /** who runs it elsewhere, in words */
  elsewhere?: string;
  interrupted: boolean;
  resumable: boolean;
  label: (sha256: string | null | undefined) => string;
  /** the rollout waits for a lease its window left on the agents */
  waiting?: string;
  /** the agents' records (the History view) */
  fleet?: PanelState['fleet'];
}

export function panelState(i: PanelInput): PanelState {
  const { svc, progress: p } = i;
  const c = svc?.config;
  const outcome =
    p && !i.running
      ? describeOutcome({
          progress: p,
          finals: i.extras.finals,
          label: i.label,
          interrupted: i.interrupted,
          maxFailures: c?.MaxFailures,
        })
      : undefined;
  const now: Record<string, RowNow> = {};
  if (p) for (const r of p.rows) now[r.addr] = rowNow(r, { progress: p, finals: i.extras.finals, label: i.label });
  const b = buttons({
    progress: p,
    srcSha: svc?.sha256,
    resumable: i.resumable,
    running: i.running,
    elsewhere: Boolean(i.elsewhere),
    label: i.label,
    backends: svc?.backends.length ?? 0,
    canaries: Math.min(c?.CanaryNum ?? 0, svc?.backends.length ?? 0),
  });
  return {
    file: i.file,
    ...(i.invalid ? { invalid: i.invalid } : {}),
    ...(i.warnings?.length ? { warnings: i.warnings } : {}),
    ...(svc && c
      ? {
          summary: {
            file: svc.file,
            packageName: svc.packageName,
            sha256: svc.sha256,
            src: besideOrAbsolute(svc.dir, svc.src),
            lb: c.LBKind === 'haproxy' ? `haproxy ${c.HAProxyBackend}` : `builtin ${c.LB}`,
            pattern: c.Pattern,
            concurrency: c.Concurrency,
            canaryNum: c.CanaryNum,
            maxFailures: c.MaxFailures,
            soakSecs: c.SoakSecs,
            backends: svc.backends.length,
            rollbackOnFailure: c.RollbackOnFailure,
          },
          plan: makePlan(svc),
          packageFile: i.label(svc.sha256),
          ...(c.Analysis
            ? {
                thresholds: {
                  maxErrorRate: c.Analysis.MaxErrorRate,
                  ...(c.Analysis.MaxLatencyRatio !== undefined ? { maxLatencyRatio: c.Analysis.MaxLatencyRatio } : {}),
                  minRequests: c.Analysis.MinRequests,
                  intervalSecs: c.Analysis.IntervalSecs,
                  ...(c.Analysis.Prometheus
                    ? {
                        prometheus: {
                          query: c.Analysis.Prometheus.Query,
                          ...(c.Analysis.Prometheus.Max !== undefined ? { max: c.Analysis.Prometheus.Max } : {}),
                          ...(c.Analysis.Prometheus.Min !== undefined ? { min: c.Analysis.Prometheus.Min } : {}),
                        },
                      }
                    : {}),
                },
              }
            : {}),
        }
      : {}),
    ...(p ? { progress: p, now, ...(p.sha256 ? { journalPackage: i.label(p.sha256) } : {}) } : {}),
    ...(outcome ? { outcome, headline: outcome.sentence } : {}),
    ...(i.extras.canaries.length ? { canaries: i.extras.canaries } : {}),
    ...(i.traffic ? { traffic: i.traffic } : {}),
    interrupted: i.interrupted,
    ...(i.waiting ? { waiting: i.waiting } : {}),
    ...(i.elsewhere ? { runningElsewhere: i.elsewhere } : {}),
    can: b.can,
    hints: b.hints,
    ...(i.fleet ? { fleet: i.fleet } : {}),
  };
}

/** `dist/web-v2.zip` for a file beside service.json, else the absolute path (given on the command line) */
function besideOrAbsolute(dir: string, file: string): string {
  const rel = relative(dir, file);
  return rel && !rel.startsWith('..') && !rel.startsWith(sep) ? rel.split(sep).join('/') : file;
}

/** Fleet's diagnostics of service.json as the panel lists them (0-based line and character) */
export function issuesOf(text: string, diags: readonly ServiceDiagnostic[]): Issue[] {
  return diags.map((d) => {
    const before = text.slice(0, d.offset);
    const line = before.split('\n').length - 1;
    return {
      field: d.field,
      message: d.message,
      severity: d.severity,
      line,
      character: d.offset - (before.lastIndexOf('\n') + 1),
    };
  });
}
