// Deploys (or rolls back) the agent on many hosts at once, bounded, each host's steps and result
// reported as they happen, and one summary line for the lot. Shared by `fleet agent deploy` and
// the editor's Install Agent / Update Agent.
import { mapLimit } from '../limit';
import type { SshEndpoint } from '../ssh/endpoint';
import type { SshPool } from '../ssh/pool';
import type { AgentBundle } from './agentBundle';
import { deployAgent, type DeployOptions, type DeployResult } from './deploy';

export type HostDeploy = { host: string; ok: true; result: DeployResult } | { host: string; ok: false; error: unknown };

export interface FanoutOptions extends Omit<DeployOptions, 'progress'> {
  concurrency: number;
  onProgress?: (host: string, message: string) => void;
  onResult?: (r: HostDeploy) => void;
}

export async function deployToHosts(
  pool: SshPool,
  endpoints: SshEndpoint[],
  bundle: AgentBundle,
  opts: FanoutOptions,
): Promise<HostDeploy[]> {
  return mapLimit(endpoints, opts.concurrency, async (ep) => {
    let r: HostDeploy;
    try {
      const result = await deployAgent(pool, ep, bundle, { ...opts, progress: (m) => opts.onProgress?.(ep.label, m) });
      r = { host: ep.label, ok: true, result };
    } catch (error) {
      r = { host: ep.label, ok: false, error };
    }
    opts.onResult?.(r);
    return r;
  });
}

/** `agent deploy: 3 installed, 1 upgraded, 2 up to date, 1 failed (7 hosts)` */
export function deploySummary(results: HostDeploy[]): string {
  const counts = new Map<string, number>();
  for (const r of results) {
    const k = r.ok ? r.result.outcome : 'failed';
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const order = ['installed', 'upgraded', 'started', 'rolled back', 'up to date', 'failed'];
  const parts = order.filter((k) => counts.has(k)).map((k) => `${counts.get(k)} ${k}`);
  return `agent deploy: ${parts.join(', ') || 'no hosts'} (${results.length} host${results.length === 1 ? '' : 's'})`;
}
