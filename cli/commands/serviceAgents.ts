// The agents of a service.json, reached as `fleet rollout` reaches them (its token, SSH for ssh://),
// for the commands that read what they recorded: `fleet history`, `fleet status`.
import { loadService, type LoadedService } from '../../core/rollout/config';
import { agentClients } from '../../core/rollout/deps';
import { agentsOf, type FleetAgent } from '../../core/rollout/leases';
import { sshContext, type SshFlags } from '../sshOptions';
import type { CliIO } from '../io';

export interface ServiceAgentFlags extends SshFlags {
  agentTokenFile?: string;
}

/** runs fn with the service and its agents, then closes what reaching them opened */
export async function withServiceAgents<T>(
  io: CliIO,
  file: string,
  o: ServiceAgentFlags,
  fn: (svc: LoadedService, agents: FleetAgent[]) => Promise<T>,
): Promise<T> {
  const svc = await loadService(file, { agentTokenFile: o.agentTokenFile });
  let ctx: ReturnType<typeof sshContext> | undefined;
  const agentFor = agentClients(svc, () => {
    ctx = sshContext(io, [], o);
    return { pool: ctx.pool, endpoint: ctx.endpointFor };
  });
  try {
    return await fn(svc, agentsOf(svc, agentFor));
  } finally {
    ctx?.pool.close();
  }
}

export const agentTokenFlag = [
  '--agent-token-file <file>',
  "the agents' token file (the read-only one suffices), instead of AgentTokenFile",
] as const;
