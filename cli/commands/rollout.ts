// `fleet rollout service.json [--dry-run] [--resume] [--json]`: a line per transition (or JSON
// events), the end state, the exit code of design.md. Ctrl-C pauses at a safe point (resumable
// with --resume); a second Ctrl-C aborts. Either way healthy backends go back into the LB.
import type { Command } from 'commander';
import { loadService } from '../../core/rollout/config';
import { rolloutDeps } from '../../core/rollout/deps';
import type { JournalEvent } from '../../core/rollout/journal';
import { formatPlan, makePlan } from '../../core/rollout/plan';
import { describeEvent } from '../../core/rollout/progress';
import { resumableJournal } from '../../core/rollout/resume';
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
    const resumeJournal = o.resume ? resumableJournal(svc).journal : undefined;
    let ctx: ReturnType<typeof sshContext> | undefined;
    const deps = rolloutDeps(svc, () => {
      ctx = sshContext(io, [], o);
      return { pool: ctx.pool, endpoint: ctx.endpointFor };
    });
    const rollout = new Rollout(svc, deps, {
      resumeJournal,
      onEvent: (e) => io.out((o.json ? JSON.stringify(e) : formatEvent(e)) + '\n'),
      by: 'fleet rollout',
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
