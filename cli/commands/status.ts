// `fleet status service.json`: which package each backend runs, which rollout (or whose hand) put it
// there, drift, and a rollout in progress on another machine (core/rollout/fleetStatus.ts).
import type { Command } from 'commander';
import { readFleetHistory } from '../../core/rollout/fleetHistory';
import { fleetRollout, readFleetRecords } from '../../core/rollout/fleetRecords';
import { DriftError, formatStatus, readPackageStates, statusReport } from '../../core/rollout/fleetStatus';
import { addSshFlags } from '../sshOptions';
import type { CliIO } from '../io';
import { agentTokenFlag, withServiceAgents, type ServiceAgentFlags } from './serviceAgents';

export function registerStatus(program: Command, io: CliIO): void {
  addSshFlags(
    program
      .command('status')
      .description(
        'which package each backend runs, which rollout (or whose hand) put it there, drift from the last successful rollout, and a rollout in progress anywhere',
      )
      .argument('<service.json>')
      .option(
        '--fail-on-drift',
        'exit 1 when a backend drifted (not on the last successful rollout, or changed by hand)',
      )
      .option(...agentTokenFlag),
  ).action(async (file: string, o: ServiceAgentFlags & { failOnDrift?: boolean }) => {
    await withServiceAgents(io, file, o, async (svc, agents) => {
      const [states, histories, reads] = await Promise.all([
        readPackageStates(svc, agents),
        readFleetHistory(svc, agents),
        readFleetRecords(svc, agents),
      ]);
      const r = statusReport(svc, states, histories, fleetRollout(svc, reads));
      io.out(o.json ? JSON.stringify(r) + '\n' : formatStatus(r, svc));
      const drifted = r.backends.filter((b) => b.drift.some((d) => d.kind !== 'unknown'));
      if (r.backends.some((b) => b.drift.some((d) => d.kind === 'unknown'))) io.exitCode = 2;
      if (o.failOnDrift && drifted.length)
        throw new DriftError(`${drifted.length} backend(s) drifted: ${drifted.map((b) => b.addr).join(', ')}`);
    });
  });
}
