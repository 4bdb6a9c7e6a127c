// `fleet rollout service.json [--dry-run] [--resume | --auto-resume] [--lease-wait SECS] [--json]`: on
// a terminal, a live table (one row per backend, cli/rolloutTable.ts); for pipes a line per transition
// (or JSON events); then the end state and the exit code of design.md. Ctrl-C pauses at a safe point
// (resumable with --resume, from this machine or another); a second Ctrl-C aborts. Either way healthy
// backends go back into the LB. The rollout holds a lease on its agents (core/rollout/leases.ts).
import type { Command } from 'commander';
import { loadService } from '../../core/rollout/config';
import { rolloutDeps } from '../../core/rollout/deps';
import type { JournalEvent } from '../../core/rollout/journal';
import { formatPlan, makePlan } from '../../core/rollout/plan';
import { applyEvent, describeEvent, emptyProgress, type RolloutProgress } from '../../core/rollout/progress';
import { controllerIdentity } from '../../core/rollout/controller';
import { readFleetRecords } from '../../core/rollout/fleetRecords';
import { autoResume, resumeFromFleet, type FleetResumable } from '../../core/rollout/fleetResume';
import { agentsOf, RolloutHeldError } from '../../core/rollout/leases';
import type { LoadedService } from '../../core/rollout/config';
import { renderRolloutTable, type TableState } from '../rolloutTable';
import { Rollout, type RolloutResult } from '../../core/rollout/workflow';
import { Exit } from '../exitCodes';
import { UsageError } from '../../core/errors';
import { addSshFlags, sshContext, wholeNumber, type SshFlags } from '../sshOptions';
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
  autoResume?: boolean;
  leaseWait?: number;
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
      .option(
        '--resume',
        "continue the last rollout of this file at the exact step where it stopped, from this machine's journal or, when they know more (it ran elsewhere), its agents' records",
      )
      .option(
        '--auto-resume',
        'resume the last rollout of this package if it was interrupted or paused, else start a new one (for CI jobs that may be retried)',
      )
      .option(
        '--lease-wait <secs>',
        "when another controller holds this rollout's lease, wait up to SECS for it instead of exiting 3",
        wholeNumber('--lease-wait'),
      )
      .option('--src <file>', 'the package to roll out, instead of Src (which must lie beside service.json)')
      .option('--agent-token-file <file>', "the agents' token file, instead of AgentTokenFile")
      .option('--lb-token-file <file>', "the LB's token file, instead of LBTokenFile"),
  ).action(async (file: string, o: SshFlags & RolloutFlags) => {
    const svc = await loadService(file, { src: o.src, agentTokenFile: o.agentTokenFile, lbTokenFile: o.lbTokenFile });
    if (o.dryRun) {
      io.out(o.json ? JSON.stringify(makePlan(svc)) + '\n' : formatPlan(makePlan(svc)));
      return;
    }
    if (o.resume && o.autoResume) throw new UsageError('give --resume or --auto-resume, not both');
    let ctx: ReturnType<typeof sshContext> | undefined;
    const deps = rolloutDeps(svc, () => {
      ctx = sshContext(io, [], o);
      return { pool: ctx.pool, endpoint: ctx.endpointFor };
    });
    let resumed: FleetResumable | undefined;
    if (o.resume || o.autoResume) {
      const reads = await readFleetRecords(svc, agentsOf(svc, deps.agentFor));
      resumed = o.resume ? resumeFromFleet(svc, reads) : autoResume(svc, reads);
      for (const w of resumed?.warnings ?? []) io.err(`fleet rollout: warning: ${w}\n`);
      if (resumed?.source === 'agents')
        io.err(`fleet rollout: resuming rollout ${resumed.progress.id} from its agents' records\n`);
      else if (o.autoResume && !resumed) io.err('fleet rollout: nothing to resume: starting a new rollout\n');
    }
    const table = !o.json && io.live ? new LiveTable(await io.live(), svc, resumed?.progress) : undefined;
    const rollout = new Rollout(svc, deps, {
      resumeJournal: resumed?.journal,
      resumedFrom: resumed?.source,
      onEvent: (e) => (table ? table.event(e) : io.out((o.json ? JSON.stringify(e) : formatEvent(e)) + '\n')),
      by: 'fleet rollout',
      actor: controllerIdentity('cli', io.env),
      leaseWaitMs: (o.leaseWait ?? 0) * 1000,
      onLeaseWait: (e) =>
        io.err(
          `fleet rollout: waiting (--lease-wait ${o.leaseWait}): ${e.message.split('; nothing was changed')[0]}\n`,
        ),
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
      const result = await rollout
        .run()
        .finally(() => table?.done())
        .catch((e) => {
          // a refused start still gives a pipeline one event to read: who holds it
          if (o.json && e instanceof RolloutHeldError)
            io.out(
              JSON.stringify({ t: 'held', at: new Date().toISOString(), error: e.message, lease: e.lease }) + '\n',
            );
          throw e;
        });
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
