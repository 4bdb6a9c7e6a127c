// `fleet history service.json`: who deployed what to which backend, when: each agent's history of
// the package (core/rollout/fleetHistory.ts) in one timeline, for a person or (--json) a pipeline.
import type { Command } from 'commander';
import { describeEntry, historyWarnings, mergeTimeline, readFleetHistory } from '../../core/rollout/fleetHistory';
import { addSshFlags, positiveInt } from '../sshOptions';
import type { CliIO } from '../io';
import { agentTokenFlag, withServiceAgents, type ServiceAgentFlags } from './serviceAgents';

export function registerHistory(program: Command, io: CliIO): void {
  addSshFlags(
    program
      .command('history')
      .description(
        "who deployed what to which backend, when: the agents' histories of the package, merged into one timeline",
      )
      .argument('<service.json>')
      .option(
        '--limit <n>',
        'the newest N entries of each agent (default 200, at most 10000)',
        positiveInt('--limit'),
        200,
      )
      .option(...agentTokenFlag),
  ).action(async (file: string, o: ServiceAgentFlags & { limit?: number }) => {
    await withServiceAgents(io, file, o, async (svc, agents) => {
      const hs = await readFleetHistory(svc, agents, Math.min(o.limit ?? 200, 10_000));
      const timeline = mergeTimeline(hs);
      for (const e of timeline) io.out((o.json ? JSON.stringify(e) : describeEntry(e)) + '\n');
      if (!o.json && timeline.length === 0) io.out(`no history of package ${svc.packageName} on these agents\n`);
      for (const w of historyWarnings(hs)) io.err(`fleet history: warning: ${w}\n`);
      if (hs.some((h) => h.error)) io.exitCode = 2;
    });
  });
}
