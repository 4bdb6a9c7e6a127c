// The hosts of the Fleet view and their refresh: every host probed at once (bounded), each
// result published as soon as it arrives, so an unreachable host never delays the others.
// Hosts with an agent also list its packages, through the agent's socket over the same SSH
// connection. With a Prometheus source, every host it scrapes is refreshed by three queries
// (promStats.ts) and only the others are asked over SSH.
import { AgentClient } from '../agentClient/client';
import { errorMessage } from '../errors';
import { Semaphore } from '../limit';
import type { SshEndpoint } from '../ssh/endpoint';
import type { SshPool } from '../ssh/pool';
import { probeHost, type ProbeResult } from './probe';
import { statsFromPrometheus, type PrometheusSource } from '../hosts/promStats';

export type Prober = (pool: SshPool, ep: SshEndpoint, timeoutMs: number, signal?: AbortSignal) => Promise<ProbeResult>;
import type { HostState } from './hostState';

export interface FleetHost {
  name: string;
  groups: string[];
  endpoint: SshEndpoint;
}

export class FleetModel {
  readonly states = new Map<string, HostState>();
  private hosts: FleetHost[] = [];
  /** one client per host: it remembers where the host's agent socket is, so a refresh asks once */
  private readonly agents = new Map<string, AgentClient>();
  /** where stats come from first (undefined: SSH only) */
  prometheus?: PrometheusSource;
  /** why the last refresh could not use Prometheus (then every host was asked over SSH) */
  prometheusError?: string;

  /** probe: how a host is asked (the real SSH probe; benchmarks simulate thousands of hosts with another) */
  constructor(
    private pool: SshPool,
    private readonly onChange: (h: HostState) => void,
    private readonly probe: Prober = probeHost,
  ) {}

  setPool(pool: SshPool): void {
    this.pool = pool;
    this.agents.clear();
  }

  /** replaces the host list, keeping what is known of hosts that stay */
  setHosts(hosts: FleetHost[]): void {
    this.hosts = hosts;
    this.agents.clear();
    const keep = new Map(this.states);
    this.states.clear();
    for (const h of hosts) {
      const old = keep.get(h.name);
      this.states.set(h.name, {
        ...(old ?? {}),
        name: h.name,
        address: `${h.endpoint.user}@${h.endpoint.host}:${h.endpoint.port}`,
        groups: h.groups,
      });
    }
  }

  host(name: string): FleetHost | undefined {
    return this.hosts.find((h) => h.name === name);
  }

  list(): FleetHost[] {
    return [...this.hosts];
  }

  /**
   * Refreshes the named hosts (all when omitted): from Prometheus those it scrapes, the rest over
   * SSH, at most `concurrency` at once, except the ones `skipSsh` names (hosts in collapsed groups).
   */
  async refresh(
    opts: {
      names?: string[];
      concurrency?: number;
      timeoutMs?: number;
      signal?: AbortSignal;
      skipSsh?: (name: string) => boolean;
    } = {},
  ): Promise<void> {
    const limit = new Semaphore(opts.concurrency ?? 50);
    const wanted = opts.names ? new Set(opts.names) : undefined;
    let targets = this.hosts.filter((h) => !wanted || wanted.has(h.name));
    if (this.prometheus) {
      try {
        const found = await statsFromPrometheus(this.prometheus, opts.signal);
        this.prometheusError = undefined;
        for (const h of targets) {
          const p = found.get(h.name);
          if (!p) continue;
          const prev = this.states.get(h.name)!;
          const next: HostState = {
            ...prev,
            probe: p.probe,
            packages: p.packages,
            lastSeen: p.probe.ok ? p.probe.at : prev.lastSeen,
          };
          this.states.set(h.name, next);
          this.onChange(next);
        }
        targets = targets.filter((h) => !found.has(h.name));
      } catch (e) {
        this.prometheusError = errorMessage(e);
      }
    }
    if (opts.skipSsh) targets = targets.filter((h) => !opts.skipSsh!(h.name));
    await Promise.all(
      targets.map((h) =>
        limit.run(async () => {
          const probe = await this.probe(this.pool, h.endpoint, opts.timeoutMs ?? 10_000, opts.signal);
          const prev = this.states.get(h.name);
          const next: HostState = {
            ...prev!,
            probe: { ...probe, source: 'ssh' },
            lastSeen: probe.ok ? probe.at : prev?.lastSeen,
          };
          if (probe.ok && probe.probe.agentSocket) {
            try {
              next.packages = await this.agent(h).list();
            } catch (e) {
              next.packages = { error: errorMessage(e) };
            }
          } else next.packages = undefined;
          this.states.set(h.name, next);
          this.onChange(next);
        }),
      ),
    );
  }

  /** the agent of a host, over SSH to its unix socket */
  agent(h: FleetHost): AgentClient {
    let c = this.agents.get(h.name);
    if (!c) {
      c = new AgentClient(
        { kind: 'ssh', target: h.name, text: `ssh://${h.endpoint.user}@${h.endpoint.host}:${h.endpoint.port}` },
        { pool: this.pool, sshEndpoint: h.endpoint },
      );
      this.agents.set(h.name, c);
    }
    return c;
  }
}
