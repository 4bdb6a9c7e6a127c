// Builds what a rollout talks to from service.json: the LB adapter and one agent client per
// backend (http:// with the token, unix:, or ssh:// through a shared SSH pool).
import { resolve } from 'node:path';
import { AgentClient } from '../agentClient/client';
import { parseAgentEndpoint } from '../agentClient/endpoint';
import { ValidationError } from '../errors';
import { BuiltinLb } from '../lb/builtin';
import { HaproxyLb } from '../lb/haproxy';
import type { LoadBalancer } from '../lb/types';
import type { SshEndpoint } from '../ssh/endpoint';
import type { SshPool } from '../ssh/pool';
import type { BackendTarget, LoadedService } from './config';
import type { RolloutDeps } from './workflow';

export interface SshAccess {
  pool: SshPool;
  endpoint: (target: string) => SshEndpoint;
}

export function makeLb(svc: LoadedService): LoadBalancer {
  const c = svc.config;
  if (c.LBKind === 'builtin' && !c.LB.startsWith('unix:') && !svc.lbToken) {
    throw new ValidationError(
      svc.file,
      'LBTokenFile',
      `the LB control API at ${c.LB} is reached over TCP and needs its token: set LBTokenFile (a file beside service.json, e.g. the token file fleet lb serve printed, copied there) or FLEET_LB_TOKEN`,
    );
  }
  return c.LBKind === 'haproxy'
    ? new HaproxyLb(resolve(svc.dir, c.HAProxySocket!), c.HAProxyBackend!)
    : new BuiltinLb(c.LB, c.Pattern, svc.lbToken);
}

export function rolloutDeps(svc: LoadedService, ssh?: () => SshAccess): RolloutDeps {
  return { lb: makeLb(svc), agentFor: agentClients(svc, ssh), agentRecords: true };
}

/** one agent client per agent endpoint of service.json, made when first asked for */
export function agentClients(svc: LoadedService, ssh?: () => SshAccess): (b: BackendTarget) => AgentClient {
  const clients = new Map<string, AgentClient>();
  let access: SshAccess | undefined;
  const agentFor = (b: BackendTarget): AgentClient => {
    let c = clients.get(b.agent);
    if (c) return c;
    const ep = parseAgentEndpoint(b.agent);
    if (ep.kind === 'ssh') {
      access ??= ssh?.();
      if (!access)
        throw new ValidationError(
          svc.file,
          'Backends',
          `agent ${b.agent} is reached over SSH, which this front end does not offer`,
        );
      c = new AgentClient(ep, { pool: access.pool, sshEndpoint: access.endpoint(ep.target) });
    } else {
      if (ep.kind === 'http' && !svc.token)
        throw new ValidationError(
          svc.file,
          'AgentTokenFile',
          `agent ${b.agent} needs a token: set AgentTokenFile or FLEET_AGENT_TOKEN`,
        );
      c = new AgentClient(ep, { token: svc.token });
    }
    clients.set(b.agent, c);
    return c;
  };
  return agentFor;
}
