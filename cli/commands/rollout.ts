// `fleet rollout service.json [--dry-run] [--resume] [--json]`: on a terminal, a live table (one row
// per backend, cli/rolloutTable.ts); for pipes a line per transition (or JSON events); then the end
// state and the exit code of design.md. Ctrl-C pauses at a safe point (resumable with --resume); a
// second Ctrl-C aborts. Either way healthy backends go back into the LB.
import type { Command } from 'commander';
import { loadService } from '../../core/rollout/config';
import { rolloutDeps } from '../../core/rollout/deps';
import type { JournalEvent } from '../../core/rollout/journal';
import { formatPlan, makePlan } from '../../core/rollout/plan';
import { applyEvent, describeEvent, emptyProgress, type RolloutProgress } from '../../core/rollout/progress';
import { resumableJournal } from '../../core/rollout/resume';
import type { LoadedService } from '../../core/rollout/config';
import { renderRolloutTable, type TableState } from '../rolloutTable';
import { Rollout, type RolloutResult } from '../../core/rollout/workflow';
import { Exit } from '../exitCodes';
import { addSshFlags, sshContext, type SshFlags } from '../sshOptions';
import type { CliIO, LiveRegion } from '../io';

export const exitOfEndState: Record<RolloutResult, number> = {
  ESSuccess: Exit.ok,
  ESPreconditionFailure: Exit.precondition,
  ESCanaryFailure: Exit.canary,
  ESMaxFailures: Exit.maxFailures,
  Aborted: Exit.aborted,
  Paused: Exit.aborted,
};

/** an event as the CLI prints it: its time, then describeEvent's words (core/rollout/progress.ts) */
export function formatEvent(e: JournalEvent): string {
  return `${e.at.slice(11, 19)} ${describeEvent(e)}`;
}

interface RolloutFlags {
  dryRun?: boolean;
  resume?: boolean;
  src?: string;
  agentTokenFile?: string;
  lbTokenFile?: string;
}

export function registerRollout(program: Command, io: CliIO): void {
  addSshFlags(
    program
      .command('rollout')
      .description('canaried rollout of a package to the backends of service.json behind a load balancer')
      .argument('<service.json>')
      .option('--dry-run', 'print the plan (canaries, batches, LB actions) and change nothing')
      .option('--resume', 'continue the last rollout of this file from its journal, at the exact step where it stopped')
      .option('--src <file>', 'the package to roll out, instead of Src (which must lie beside service.json)')
      .option('--agent-token-file <file>', "the agents' token file, instead of AgentTokenFile")
      .option('--lb-token-file <file>', "the LB's token file, instead of LBTokenFile"),
  ).action(async (file: string, o: SshFlags & RolloutFlags) => {
    const svc = await loadService(file, { src: o.src, agentTokenFile: o.agentTokenFile, lbTokenFile: o.lbTokenFile });
    if (o.dryRun) {
      io.out(o.json ? JSON.stringify(makePlan(svc)) + '\n' : formatPlan(makePlan(svc)));
      return;
    }
    const resumed = o.resume ? resumableJournal(svc) : undefined;
    const table = !o.json && io.live ? new LiveTable(await io.live(), svc, resumed?.progress) : undefined;
    let ctx: ReturnType<typeof sshContext> | undefined;
    const deps = rolloutDeps(svc, () => {
      ctx = sshContext(io, [], o);
      return { pool: ctx.pool, endpoint: ctx.endpointFor };
    });
    const rollout = new Rollout(svc, deps, {
      resumeJournal: resumed?.journal,
      onEvent: (e) => (table ? table.event(e) : io.out((o.json ? JSON.stringify(e) : formatEvent(e)) + '\n')),
      by: 'fleet rollout',
    });
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts === 1) {
        // on the terminal the table says it (a line on stderr would break its redraw)
        if (table) table.set({ pausing: true });
        else io.err('fleet rollout: pausing once in-flight steps reach a safe point (Ctrl-C again to abort)\n');
        rollout.pause();
      } else {
        if (table) table.set({ aborting: true });
        else io.err('fleet rollout: aborting\n');
        rollout.abort();
      }
    };
    const offInterrupt = io.onInterrupt(onSigint);
    try {
      const result = await rollout.run().finally(() => table?.done());
      if (result === 'Paused') io.err(`fleet rollout: paused; continue with: fleet rollout ${file} --resume\n`);
      io.exitCode = exitOfEndState[result];
    } finally {
      offInterrupt();
      ctx?.pool.close();
    }
  });
}

/** the terminal's view: the progress folded from each event, redrawn on each event and every second */
class LiveTable {
  private progress: RolloutProgress;
  private state: TableState;
  private readonly ticker: NodeJS.Timeout;

  constructor(
    private readonly region: LiveRegion,
    svc: LoadedService,
    resumed?: RolloutProgress,
  ) {
    this.progress =
      resumed ??
      emptyProgress(
        svc.backends.map((b) => b.addr),
        svc.config.CanaryNum,
      );
    this.state = { title: `fleet rollout ${svc.packageName} → ${svc.backends.length} backend(s)  (${svc.file})` };
    this.ticker = setInterval(() => this.draw(), 1000);
    this.draw();
  }

  event(e: JournalEvent): void {
    this.progress = applyEvent(this.progress, e);
    if (e.t === 'plan') this.state.plan = describeEvent(e);
    this.draw();
  }

  set(s: Partial<TableState>): void {
    this.state = { ...this.state, ...s };
    this.draw();
  }

  done(): void {
    clearInterval(this.ticker);
    this.draw();
    this.region.done();
  }

  private draw(): void {
    this.region.update(
      renderRolloutTable(this.progress, this.state, Date.now(), this.region.columns, this.region.rows),
    );
  }
}
