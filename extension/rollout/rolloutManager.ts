// Rollouts started from the editor, one per service.json, alive while the window is: they keep
// running when their panel is closed (the panel re-attaches), show in the status bar, and
// announce how they ended in a sentence. Resuming after a window reload continues the journal.
// Each file is checked as the editor checks it (core/rollout/diagnostics.ts) before it is loaded:
// a file with errors shows them, with their places, instead of a plan.
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { errorMessage, ValidationError } from '../../core/errors';
import { loadService, type LoadedService } from '../../core/rollout/config';
import { makeLb, rolloutDeps } from '../../core/rollout/deps';
import { checkService } from '../../core/rollout/diagnostics';
import { latestJournal, readJournal } from '../../core/rollout/journal';
import { lockHolder } from '../../core/rollout/lock';
import {
  applyEvent,
  describeEvent,
  emptyProgress,
  foldProgress,
  type RolloutProgress,
} from '../../core/rollout/progress';
import { canResume, isInterrupted, resumableJournal } from '../../core/rollout/resume';
import { Rollout } from '../../core/rollout/workflow';
import type { RolloutHeldError } from '../../core/rollout/leases';
import { describeActor } from '../../core/protocol/agentRecords';
import type { LiveTraffic } from '../../core/rollout/liveTraffic';
import type { Issue, PanelState } from '../../webviews/rollout/protocol';
import type { Session } from '../session';
import { applyExtra, emptyExtras, foldExtras, type JournalExtras } from './journalExtras';
import { describeOutcome } from './outcome';
import type { PackageNames } from './packageNames';
import type { PanelMemory } from './panelMemory';
import { issuesOf, panelState } from './panelState';
import { TrafficWatch } from './trafficWatch';
import { FleetWatch } from './fleetWatch';

interface Run {
  svc?: LoadedService;
  invalid?: PanelState['invalid'];
  warnings?: Issue[];
  rollout?: Rollout;
  progress?: RolloutProgress;
  extras: JournalExtras;
  done?: Promise<unknown>;
  traffic?: LiveTraffic | { error: string };
  watch?: TrafficWatch;
  watchers: number;
  /** the rollout waits for a lease its window left behind: why, in words */
  waiting?: string;
  /** the agents' records while a panel shows the file (a rollout run elsewhere, the History view) */
  fleet?: PanelState['fleet'];
  fleetWatch?: FleetWatch;
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
    readonly names: PackageNames,
  ) {}

  private run(file: string): Run {
    let run = this.runs.get(file);
    if (!run) this.runs.set(file, (run = { extras: emptyExtras(), watchers: 0 }));
    return run;
  }

  /** (re)checks and loads service.json and, when no rollout runs, the latest journal */
  async load(file: string): Promise<void> {
    const run = this.run(file);
    if (run.rollout && run.progress?.status === 'running') return;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      run.svc = undefined;
      run.invalid = { message: `${file}: cannot read: ${errorMessage(e)}`, field: '', issues: [] };
      this.changed.fire(file);
      return;
    }
    const diags = await checkService(file, text, { lb: true });
    const issues = issuesOf(text, diags);
    const errors = issues.filter((i) => i.severity === 'error');
    run.warnings = issues.filter((i) => i.severity !== 'error');
    try {
      if (errors.length) throw new ValidationError(file, errors[0].field, errors[0].message);
      run.svc = await loadService(file);
      run.invalid = undefined;
      const journal = latestJournal(run.svc.file);
      const events = journal ? readJournal(journal) : [];
      const addrs = run.svc.backends.map((b) => b.addr);
      run.progress = journal
        ? foldProgress(addrs, run.svc.config.CanaryNum, events)
        : emptyProgress(addrs, run.svc.config.CanaryNum);
      run.extras = foldExtras(events);
      void this.learnNames(file);
    } catch (e) {
      run.svc = undefined;
      run.invalid = {
        message: errorMessage(e),
        field: e instanceof ValidationError ? e.field : '',
        issues: errors.length
          ? errors
          : e instanceof ValidationError
            ? [
                { field: e.field, message: e.expected, severity: 'error' },
                ...e.more.map((m) => ({ field: m.field, message: m.expected, severity: 'error' as const })),
              ]
            : [{ field: '', message: errorMessage(e), severity: 'error' }],
      };
    }
    this.changed.fire(file);
  }

  /** the packages this file's journal names, by the names of the zips beside it */
  private async learnNames(file: string): Promise<void> {
    const run = this.run(file);
    const svc = run.svc;
    if (!svc) return;
    const shas = [run.progress?.sha256, svc.sha256, ...(run.progress?.rows.map((r) => r.from?.sha256) ?? [])];
    const learned = await this.names
      .learnFrom([dirname(svc.src), svc.dir, join(svc.dir, 'dist')], shas)
      .catch(() => false);
    if (learned) this.changed.fire(file);
  }

  state(file: string): PanelState {
    const run = this.run(file);
    const svc = run.svc;
    const running = Boolean(run.rollout) && run.progress?.status === 'running';
    const holder = svc && !run.rollout ? lockHolder(svc.file) : null;
    // a rollout another machine (or CI job) runs on these agents: its rows, and who holds it
    const remote = !run.rollout && run.fleet && 'history' in run.fleet ? run.fleet.rollout : undefined;
    // only when the agents know more than this window's journal: a reading taken just before this
    // window's own rollout paused or ended still says "running", and must not replace what it knows
    const local = run.progress?.log ?? [];
    const knowsMore = (log: readonly string[]) => log.length > 0 && !local.includes(log[log.length - 1]);
    const away =
      remote?.state === 'running' && remote.progress.sha256 && knowsMore(remote.progress.log) ? remote : undefined;
    return panelState({
      file,
      svc,
      invalid: run.invalid,
      warnings: run.warnings,
      progress: away && !holder ? away.progress : run.progress,
      fleet: run.fleet,
      extras: run.extras,
      traffic: run.traffic,
      running,
      elsewhere: holder
        ? `${holder.by} (pid ${holder.pid}${holder.host ? ` on ${holder.host}` : ''}) since ${holder.since}`
        : away
          ? `${away.holder ?? 'another controller'}, rollout ${away.id} (its lease on the agents)`
          : undefined,
      interrupted: this.interrupted(file),
      resumable: Boolean(svc) && !running && canResume(svc!, run.progress ?? null),
      label: (sha) => this.labelFor(run, sha),
      ...(run.waiting ? { waiting: run.waiting } : {}),
    });
  }

  async start(file: string, resume = false): Promise<void> {
    await this.load(file);
    const run = this.run(file);
    if (!run.svc || run.rollout) return;
    const svc = run.svc;
    this.names.remember(svc.sha256, basename(svc.src));
    // the same rules as `fleet rollout --resume`: the newest journal, same package, nobody else running it
    const resumed = resume ? resumableJournal(svc) : undefined;
    const addrs = svc.backends.map((b) => b.addr);
    const progress = resumed?.progress ?? emptyProgress(addrs, svc.config.CanaryNum);
    if (!resumed) run.extras = emptyExtras();
    const deps = rolloutDeps(svc, () => ({ pool: this.session.pool, endpoint: (t) => this.session.endpointFor(t) }));
    // a rollout whose window went away (a reload) may still hold its lease on the agents: no process
    // renews it, so Resume waits for it to expire rather than refuse
    const orphaned = resume && this.interrupted(file);
    let events = 0;
    const rollout = new Rollout(svc, deps, {
      resumeJournal: resumed?.journal,
      resumedFrom: resumed && 'journal',
      by: 'VS Code',
      ...(orphaned
        ? {
            leaseWaitMs: (svc.config.LeaseSecs + 10) * 1000,
            onLeaseWait: (e: RolloutHeldError) => {
              run.waiting = `Waiting for the lease the window that ran this rollout left on the agents${
                e.lease ? ` (${describeActor(e.lease.holder)}) to expire in ${e.lease.expiresInSecs} s` : ' to expire'
              }; the rollout continues then.`;
              this.changed.fire(file);
            },
          }
        : {}),
      onEvent: (e) => {
        events++;
        run.waiting = undefined;
        this.log.info(`rollout ${svc.packageName}: ${describeEvent(e)}`);
        run.progress = applyEvent(run.progress!, e);
        applyExtra(run.extras, e);
        if (e.t === 'found' && e.sha256 && !this.names.has(e.sha256)) void this.learnNames(file);
        this.paintStatus(file, run);
        this.changed.fire(file);
      },
    });
    run.progress = progress;
    run.rollout = rollout;
    void this.memory.setRunning(file, true);
    this.changed.fire(file);
    let failure: unknown;
    run.done = rollout
      .run()
      .then(
        () => undefined,
        (e) => {
          failure = e;
          this.log.warn(`rollout ${svc.packageName}: ${errorMessage(e)}`);
        },
      )
      .finally(() => {
        // a rollout the window's going away paused stays "running" here, so the next window shows it
        if (!this.disposing) void this.memory.setRunning(file, false);
        run.rollout = undefined;
        run.waiting = undefined;
        this.status.hide();
        this.changed.fire(file);
        if (this.disposing) return;
        // refused before anything happened (another controller holds it): said as it is, not as an outcome
        if (failure && events === 0)
          void vscode.window.showErrorMessage(
            `Fleet: the rollout of ${svc.packageName} did not start: ${errorMessage(failure)}`,
          );
        else this.announce(file, run);
      });
  }

  /** the end as a notification, in the banner's sentence, with a way back to the panel */
  private announce(file: string, run: Run): void {
    const p = run.progress;
    if (!p || p.status === 'running') return;
    const o = describeOutcome({
      progress: p,
      finals: run.extras.finals,
      label: (sha) => this.labelFor(run, sha),
      maxFailures: run.svc?.config.MaxFailures,
    });
    if (!o) return;
    const show = 'Show Rollout';
    const text = `Fleet: ${o.sentence}.${o.detail && o.tone === 'bad' ? ` ${o.detail}` : ''}`;
    const say =
      o.tone === 'good' || o.tone === 'info'
        ? vscode.window.showInformationMessage
        : o.tone === 'warn'
          ? vscode.window.showWarningMessage
          : vscode.window.showErrorMessage;
    void say(text, show).then(
      (pick) => pick === show && vscode.commands.executeCommand('fleet.openRolloutPanel', vscode.Uri.file(file)),
    );
  }

  private labelFor(run: Run, sha: string | null | undefined): string {
    const svc = run.svc;
    return sha && sha === svc?.sha256 && !this.names.has(sha) ? basename(svc.src) : this.names.label(sha);
  }

  /** live traffic while a panel shows the file: call the result to stop watching */
  watchTraffic(file: string): () => void {
    const run = this.run(file);
    run.watch ??= new TrafficWatch(
      () => (run.svc ? { key: run.svc, make: () => makeLb(run.svc!) } : undefined),
      (t) => {
        run.traffic = t;
        this.changed.fire(file);
      },
    );
    run.fleetWatch ??= new FleetWatch(
      () => run.svc,
      () => ({ pool: this.session.pool, endpoint: (t) => this.session.endpointFor(t) }),
      (d) => ((run.fleet = d), this.changed.fire(file)),
    );
    run.watchers++;
    run.watch.start();
    run.fleetWatch.start();
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      if (--run.watchers === 0) {
        run.watch?.stop();
        run.fleetWatch?.stop();
        run.traffic = undefined;
      }
    };
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

  /**
   * a journal that ended neither in an end state nor in a pause, and no process runs it: the window went away
   * mid-rollout
   */
  interrupted(file: string): boolean {
    const run = this.runs.get(file);
    return Boolean(run?.svc && run.progress && !run.rollout && isInterrupted(run.svc, run.progress));
  }

  /** forgets a file (the demo's, once its folder is gone) */
  forget(file: string): void {
    const run = this.runs.get(file);
    if (run?.rollout) return;
    run?.watch?.stop();
    run?.fleetWatch?.stop();
    this.runs.delete(file);
  }

  private paintStatus(file: string, run: Run): void {
    const p = run.progress!;
    const done = p.rows.filter((r) => r.phase === 'done').length;
    this.status.text = `$(sync~spin) Rollout ${run.svc?.packageName}: ${done}/${p.rows.length}${p.failures ? `, ${p.failures} failed` : ''}`;
    this.status.command = {
      command: 'fleet.openRolloutPanel',
      title: 'Show Rollout',
      arguments: [vscode.Uri.file(file)],
    };
    if (p.status === 'running') this.status.show();
  }

  dispose(): void {
    this.disposing = true;
    for (const r of this.runs.values()) {
      r.rollout?.pause();
      r.watch?.stop();
      r.fleetWatch?.stop();
    }
    this.status.dispose();
    this.changed.dispose();
  }
}
