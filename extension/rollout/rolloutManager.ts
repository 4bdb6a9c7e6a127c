// Rollouts started from the editor, one per service.json, alive while the window is: they keep
// running when their panel is closed (the panel re-attaches), show in the status bar, and
// announce their end state. Resuming after a window reload continues the journal.
import * as vscode from 'vscode';
import { errorMessage, ValidationError } from '../../core/errors';
import { loadService, type LoadedService } from '../../core/rollout/config';
import { rolloutDeps } from '../../core/rollout/deps';
import { lockHolder } from '../../core/rollout/lock';
import { makePlan } from '../../core/rollout/plan';
import {
  applyEvent,
  describeEnd,
  describeEvent,
  emptyProgress,
  type RolloutProgress,
} from '../../core/rollout/progress';
import { basename } from 'node:path';
import { canResume, isInterrupted, latestProgress, resumableJournal } from '../../core/rollout/resume';
import { Rollout } from '../../core/rollout/workflow';
import { liveTraffic, type LiveTraffic } from '../../core/rollout/liveTraffic';
import type { LoadBalancer } from '../../core/lb/types';
import type { TrafficReport } from '../../core/protocol/lb';
import type { PanelState } from '../../webviews/rollout/protocol';
import type { Session } from '../session';
import type { PanelMemory } from './panelMemory';

type Invalid = NonNullable<PanelState['invalid']>;

interface Run {
  svc?: LoadedService;
  traffic?: LiveTraffic | { error: string };
  stopTraffic?: () => void;
  invalid?: Invalid;
  rollout?: Rollout;
  progress?: RolloutProgress;
  done?: Promise<unknown>;
}

export class RolloutManager implements vscode.Disposable {
  private readonly runs = new Map<string, Run>();
  private readonly changed = new vscode.EventEmitter<string>();
  readonly onDidChange = this.changed.event;
  private readonly status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 9);

  private disposing = false;

  constructor(
    private readonly session: Session,
    private readonly log: vscode.LogOutputChannel,
    private readonly memory: PanelMemory,
  ) {}

  /** (re)loads service.json and, when no rollout runs, the latest journal's progress */
  async load(file: string): Promise<void> {
    const run = this.runs.get(file) ?? {};
    this.runs.set(file, run);
    if (run.rollout && run.progress?.status === 'running') return;
    try {
      run.svc = await loadService(file);
      run.invalid = undefined;
      run.progress =
        latestProgress(run.svc) ??
        emptyProgress(
          run.svc.backends.map((b) => b.addr),
          run.svc.config.CanaryNum,
        );
    } catch (e) {
      run.svc = undefined;
      run.invalid =
        e instanceof ValidationError
          ? {
              message: e.message,
              field: e.field,
              issues: [
                { field: e.field, message: e.expected },
                ...e.more.map((m) => ({ field: m.field, message: m.expected })),
              ],
            }
          : { message: errorMessage(e), field: '', issues: [{ field: '', message: errorMessage(e) }] };
    }
    this.changed.fire(file);
  }

  state(file: string): PanelState {
    const run = this.runs.get(file);
    const svc = run?.svc;
    const p = run?.progress;
    const running = Boolean(run?.rollout) && p?.status === 'running';
    const elsewhere = svc && !run?.rollout ? lockHolder(svc.file) : null;
    return {
      file,
      invalid: run?.invalid && { ...run.invalid, editor: editorProblems(file) },
      summary: svc && {
        file: svc.file,
        packageName: svc.packageName,
        sha256: svc.sha256,
        lb: svc.config.LBKind === 'haproxy' ? `haproxy ${svc.config.HAProxyBackend}` : `builtin ${svc.config.LB}`,
        pattern: svc.config.Pattern,
        concurrency: svc.config.Concurrency,
        canaryNum: svc.config.CanaryNum,
        maxFailures: svc.config.MaxFailures,
        soakSecs: svc.config.SoakSecs,
        backends: svc.backends.length,
        rollbackOnFailure: svc.config.RollbackOnFailure,
      },
      plan: svc && makePlan(svc),
      progress: p,
      headline: p ? describeEnd(p) : undefined,
      packageFile: svc ? basename(svc.src) : undefined,
      traffic: running ? run?.traffic : undefined,
      interrupted: this.interrupted(file),
      runningElsewhere: elsewhere
        ? `${elsewhere.by} (pid ${elsewhere.pid}${elsewhere.host ? ` on ${elsewhere.host}` : ''}) since ${elsewhere.since}`
        : undefined,
      can: {
        start: Boolean(svc) && !running && !elsewhere,
        pause: running,
        resume: Boolean(svc) && !running && canResume(svc!, p ?? null),
        abort: running,
      },
    };
  }

  async start(file: string, resume = false): Promise<void> {
    await this.load(file);
    const run = this.runs.get(file)!;
    if (!run.svc || run.rollout) return;
    const svc = run.svc;
    // the same rules as `fleet rollout --resume`: the newest journal, same package, nobody else running it
    const resumed = resume ? resumableJournal(svc) : undefined;
    const progress =
      resumed?.progress ??
      emptyProgress(
        svc.backends.map((b) => b.addr),
        svc.config.CanaryNum,
      );
    const deps = rolloutDeps(svc, () => ({ pool: this.session.pool, endpoint: (t) => this.session.endpointFor(t) }));
    const rollout = new Rollout(svc, deps, {
      resumeJournal: resumed?.journal,
      by: 'VS Code',
      onEvent: (e) => {
        this.log.info(`rollout ${svc.packageName}: ${describeEvent(e)}`);
        run.progress = applyEvent(run.progress!, e);
        this.paintStatus(run);
        this.changed.fire(file);
      },
    });
    run.progress = progress;
    run.rollout = rollout;
    run.stopTraffic = this.watchTraffic(file, run, deps.lb);
    void this.memory.setRunning(file, true);
    this.changed.fire(file);
    run.done = rollout
      .run()
      .then(
        (end) =>
          void vscode.window[end === 'ESSuccess' ? 'showInformationMessage' : 'showWarningMessage'](
            `Fleet rollout of ${svc.packageName}: ${end}`,
          ),
        (e) => void vscode.window.showErrorMessage(`Fleet rollout of ${svc.packageName}: ${errorMessage(e)}`),
      )
      .finally(() => {
        // a rollout the window's going away paused stays "running" here, so the next window shows it
        if (!this.disposing) void this.memory.setRunning(file, false);
        run.rollout = undefined;
        run.stopTraffic?.();
        run.traffic = undefined;
        this.status.hide();
        this.changed.fire(file);
      });
  }

  /** reads the LB's counters every 2 s while the rollout runs: the panel's live traffic */
  private watchTraffic(file: string, run: Run, lb: LoadBalancer): () => void {
    let prev: TrafficReport | undefined;
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      lb.stats()
        .then(
          (now) => {
            if (prev) run.traffic = liveTraffic(prev, now);
            prev = now;
          },
          (e) => (run.traffic = { error: `traffic unavailable: ${errorMessage(e)}` }),
        )
        .finally(() => {
          busy = false;
          this.changed.fire(file);
        });
    }, 2000);
    return () => clearInterval(timer);
  }

  pause(file: string): void {
    this.runs.get(file)?.rollout?.pause();
  }

  abort(file: string): void {
    this.runs.get(file)?.rollout?.abort();
  }

  /** resolves when the file's rollout (if any) has ended: for tests */
  async settled(file: string): Promise<void> {
    await this.runs.get(file)?.done;
  }

  /** a journal that ended neither in an end state nor in a pause, and no process runs it: the window went away mid-rollout */
  interrupted(file: string): boolean {
    const run = this.runs.get(file);
    return Boolean(run?.svc && run.progress && !run.rollout && isInterrupted(run.svc, run.progress));
  }

  private paintStatus(run: Run): void {
    const p = run.progress!;
    const done = p.rows.filter((r) => r.phase === 'done').length;
    this.status.text = `$(sync~spin) Rollout ${run.svc?.packageName}: ${done}/${p.rows.length}${p.failures ? `, ${p.failures} failed` : ''}`;
    this.status.command = 'fleet.openRolloutPanel';
    if (p.status === 'running') this.status.show();
  }

  /** the editor's squiggles changed (the JSON Schema check of an open service.json): repaint an invalid panel */
  diagnosticsChanged(uris: readonly vscode.Uri[]): void {
    for (const u of uris) if (this.runs.get(u.fsPath)?.invalid) this.changed.fire(u.fsPath);
  }

  dispose(): void {
    this.disposing = true;
    for (const r of this.runs.values()) r.rollout?.pause();
    this.status.dispose();
    this.changed.dispose();
  }
}

/** what the editor itself says is wrong with the file (its JSON Schema check), in its words and places */
function editorProblems(file: string): NonNullable<Invalid['editor']> {
  return vscode.languages
    .getDiagnostics(vscode.Uri.file(file))
    .filter((d) => d.severity <= vscode.DiagnosticSeverity.Warning)
    .map((d) => ({ message: d.message, line: d.range.start.line, character: d.range.start.character }));
}
