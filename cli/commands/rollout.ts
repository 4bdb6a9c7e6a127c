// `fleet rollout service.json [--dry-run] [--resume] [--json]`: a line per transition (or JSON
// events), the end state, the exit code of design.md. Ctrl-C pauses at a safe point (resumable
// with --resume); a second Ctrl-C aborts. Either way healthy backends go back into the LB.
import type { Command } from 'commander';
import { UsageError } from '../../core/errors';
import { loadService } from '../../core/rollout/config';
import { rolloutDeps } from '../../core/rollout/deps';
import { foldJournal, latestJournal, readJournal, type JournalEvent } from '../../core/rollout/journal';
import { formatPlan, makePlan } from '../../core/rollout/plan';
import { Rollout, type RolloutResult } from '../../core/rollout/workflow';
import { Exit } from '../exitCodes';
import { addSshFlags, sshContext, type SshFlags } from '../sshOptions';
import type { CliIO } from '../io';

export const exitOfEndState: Record<RolloutResult, number> = {
  ESSuccess: Exit.ok,
  ESPreconditionFailure: Exit.precondition,
  ESCanaryFailure: Exit.canary,
  ESMaxFailures: Exit.maxFailures,
  Aborted: Exit.aborted,
  Paused: Exit.aborted,
};

export function formatEvent(e: JournalEvent): string {
  const time = e.at.slice(11, 19);
  switch (e.t) {
    case 'plan':
      return `${time} plan: canaries ${e.canaries.join(', ') || 'none'}; then ${e.rest.length} backend(s), ${e.concurrency} at a time`;
    case 'resume':
      return `${time} resuming from the journal`;
    case 'step':
      return `${time} ${e.backend.padEnd(21)} ${e.step.padEnd(10)} ${e.phase}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}${e.error ? `: ${e.error}` : ''}`;
    case 'backend':
      return `${time} ${e.backend.padEnd(21)} ${e.result === 'done' ? 'upgraded' : `FAILED: ${e.error}`}`;
    case 'soak':
      return `${time} ${e.backend.padEnd(21)} soak ${e.phase === 'start' ? `for ${e.secs}s` : 'done'}`;
    case 'finalize':
      return `${time} ${e.backend.padEnd(21)} finaliser: ${e.action}`;
    case 'note':
      return `${time} ${e.backend.padEnd(21)} note: ${e.text}`;
    case 'paused':
      return `${time} paused at a safe point`;
    case 'end':
      return `${time} end state: ${e.state}${e.error ? ` (${e.error})` : ''}`;
  }
}

export function registerRollout(program: Command, io: CliIO): void {
  addSshFlags(
    program
      .command('rollout')
      .description('canaried rollout of a package to the backends of service.json behind a load balancer')
      .argument('<service.json>')
      .option('--dry-run', 'print the plan (canaries, batches, LB actions) and change nothing')
      .option('--resume', "continue the last rollout of this file from its journal, at the exact step where it stopped"),
  ).action(async (file: string, o: SshFlags & { dryRun?: boolean; resume?: boolean }) => {
    const svc = await loadService(file);
    if (o.dryRun) {
      io.out(o.json ? JSON.stringify(makePlan(svc)) + '\n' : formatPlan(makePlan(svc)));
      return;
    }
    let resumeJournal: string | undefined;
    if (o.resume) {
      resumeJournal = latestJournal(svc.file);
      if (!resumeJournal) throw new UsageError(`--resume: no rollout journal in ${svc.dir}/.fleet/rollouts`);
      const st = foldJournal(readJournal(resumeJournal));
      if (st.plan.sha256 !== svc.sha256) throw new UsageError(`--resume: ${resumeJournal} rolled out a different package (${st.plan.sha256.slice(0, 12)}); start a new rollout instead`);
    }
    let ctx: ReturnType<typeof sshContext> | undefined;
    const deps = rolloutDeps(svc, () => {
      ctx = sshContext(io, [], o);
      return { pool: ctx.pool, endpoint: ctx.endpointFor };
    });
    const rollout = new Rollout(svc, deps, {
      resumeJournal,
      onEvent: (e) => io.out((o.json ? JSON.stringify(e) : formatEvent(e)) + '\n'),
      stepDelayMs: Number(io.env.FLEET_ROLLOUT_STEP_DELAY_MS ?? 0) || 0,
    });
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts === 1) {
        io.err('fleet rollout: pausing once in-flight steps reach a safe point (Ctrl-C again to abort)\n');
        rollout.pause();
      } else {
        io.err('fleet rollout: aborting\n');
        rollout.abort();
      }
    };
    const offInterrupt = io.onInterrupt(onSigint);
    try {
      const result = await rollout.run();
      if (result === 'Paused') io.err(`fleet rollout: paused; continue with: fleet rollout ${file} --resume\n`);
      io.exitCode = exitOfEndState[result];
    } finally {
      offInterrupt();
      ctx?.pool.close();
    }
  });
}
