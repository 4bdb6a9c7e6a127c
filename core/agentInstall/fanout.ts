// Deploys (or rolls back) the agent on many hosts at once: an operation on the fan-out every verb
// runs on (core/ssh/forHosts.ts), each host's steps reported as they happen, and one summary line
// for the lot. Shared by `fleet agent deploy` and the editor's Install Agent / Update Agent.
import type { SshEndpoint } from '../ssh/endpoint';
import { forHosts, type ForHostsOptions, type HostOutcome } from '../ssh/forHosts';
import type { SshPool } from '../ssh/pool';
import type { AgentBundle } from './agentBundle';
import { deployAgent, type DeployOptions, type DeployResult } from './deploy';

export type HostDeploy = HostOutcome<DeployResult>;

export interface DeployFanoutOptions extends Omit<DeployOptions, 'progress'>, ForHostsOptions<DeployResult> {
  onProgress?: (host: string, message: string) => void;
}

export function deployToHosts(
  pool: SshPool,
  endpoints: SshEndpoint[],
  bundle: AgentBundle,
  opts: DeployFanoutOptions,
): Promise<HostDeploy[]> {
  return forHosts(
    endpoints,
    (ep) => deployAgent(pool, ep, bundle, { ...opts, progress: (m) => opts.onProgress?.(ep.label, m) }),
    opts,
  );
}

/** `agent deploy: 3 installed, 1 upgraded, 2 up to date, 1 failed (7 hosts)` */
export function deploySummary(results: HostDeploy[]): string {
  const counts = new Map<string, number>();
  for (const r of results) {
    const k = r.ok ? r.value.outcome : 'failed';
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const order = ['installed', 'upgraded', 'started', 'rolled back', 'up to date', 'failed'];
  const parts = order.filter((k) => counts.has(k)).map((k) => `${counts.get(k)} ${k}`);
  return `agent deploy: ${parts.join(', ') || 'no hosts'} (${results.length} host${results.length === 1 ? '' : 's'})`;
}
