// An in-memory fleet for unit tests of the rollout workflow: a fake LoadBalancer, a fake agent per
// backend and a health check, all reading one model of each backend (installed version, program
// state, LB state). It records what a property must hold over a run: how many backends were out of
// rotation at once, and how often each package was installed. Faults are injected per backend.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError, type AgentClient } from '../../core/agentClient/client';
import type { HealthResult } from '../../core/healthCheck';
import type { BackendLbState, BackendState, LoadBalancer } from '../../core/lb/types';
import type { PackageStatus } from '../../core/protocol/agent';
import {
  latencyBoundsMs,
  type BackendTraffic,
  type PoolHealthReport,
  type TrafficReport,
} from '../../core/protocol/lb';
import { loadService, type BackendTarget, type LoadedService } from '../../core/rollout/config';
import type { HealthCheck } from '../../core/rollout/health';
import type { RolloutDeps } from '../../core/rollout/workflow';

export interface FakeBackend {
  addr: string;
  /** the installed version (a sha256), null when nothing is installed */
  sha: string | null;
  previous: string | null;
  state: 'running' | 'stopped';
  lb: BackendLbState;
  installs: number;
  rollbacks: number;
}

export type FakeOp = 'health' | 'status' | 'install' | 'stop' | 'start' | 'rollback' | 'drain' | 'ready' | 'lbState';

export class FakeFleet {
  readonly backends = new Map<string, FakeBackend>();
  /** versions that start but never answer their health check */
  readonly badVersions = new Set<string>();
  /** per backend, operations that throw (the agent or LB refusing) */
  readonly failing = new Map<string, Set<FakeOp>>();
  /** called before every operation: a test pauses or aborts the rollout here */
  onOp?: (op: FakeOp, addr: string) => void;
  /** the most backends out of rotation (draining or out) at one time */
  maxOut = 0;
  /** backends missing from the pool (the precondition must refuse) */
  readonly notInPool = new Set<string>();
  /** backends whose health check fails whatever runs there (sick before the rollout) */
  readonly sick = new Set<string>();
  /** how each version serves traffic: share of 5xx and response time; others answer 2xx in 2 ms */
  readonly versionTraffic = new Map<string, { errorRate: number; latencyMs: number }>();
  /** requests each serving backend gets per stats() call: each call is one tick of traffic */
  requestsPerTick = 10;
  private readonly traffic = new Map<string, BackendTraffic>();

  constructor(addrs: readonly string[], oldSha = 'a'.repeat(64)) {
    for (const addr of addrs)
      this.backends.set(addr, {
        addr,
        sha: oldSha,
        previous: null,
        state: 'running',
        lb: 'serving',
        installs: 0,
        rollbacks: 0,
      });
  }

  healthy(addr: string): boolean {
    const b = this.backends.get(addr)!;
    return b.state === 'running' && b.sha !== null && !this.badVersions.has(b.sha) && !this.sick.has(addr);
  }

  /** one tick of traffic to every serving backend, by its version's behaviour */
  private tick(): void {
    for (const b of this.backends.values()) {
      let t = this.traffic.get(b.addr);
      if (!t) {
        t = {
          backend: b.addr,
          requests: 0,
          responses: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
          errors: 0,
          latency: { kind: 'histogram', counts: new Array<number>(latencyBoundsMs.length + 1).fill(0), sumMs: 0 },
        };
        this.traffic.set(b.addr, t);
      }
      if (b.lb !== 'serving' || !this.healthy(b.addr)) continue;
      const v = this.versionTraffic.get(b.sha ?? '') ?? { errorRate: 0, latencyMs: 2 };
      const n = this.requestsPerTick;
      const bad = Math.round(n * v.errorRate);
      t.requests += n;
      t.responses['5xx'] += bad;
      t.responses['2xx'] += n - bad;
      if (t.latency.kind === 'histogram') {
        const i = latencyBoundsMs.findIndex((x) => v.latencyMs <= x);
        t.latency.counts[i === -1 ? latencyBoundsMs.length : i] += n;
        t.latency.sumMs += n * v.latencyMs;
      }
    }
  }

  private touch(op: FakeOp, addr: string): FakeBackend {
    this.onOp?.(op, addr);
    if (this.failing.get(addr)?.has(op)) throw new Error(`fake ${op} on ${addr} failed`);
    return this.backends.get(addr)!;
  }

  private setLb(b: FakeBackend, lb: BackendLbState): void {
    b.lb = lb;
    this.maxOut = Math.max(this.maxOut, [...this.backends.values()].filter((x) => x.lb !== 'serving').length);
  }

  readonly lb: LoadBalancer = {
    name: 'fake LB',
    poolHealth: async (): Promise<PoolHealthReport> => {
      const backends = [...this.backends.values()]
        .filter((b) => b.lb !== 'out' && !this.notInPool.has(b.addr))
        .map((b) => ({
          backend: b.addr,
          status: this.healthy(b.addr) ? ('BS_HEALTHY' as const) : ('BS_SICK' as const),
          draining: b.lb === 'draining',
        }));
      const healthy = backends.filter((b) => b.status === 'BS_HEALTHY' && !b.draining).length;
      return {
        pattern: '/',
        status: healthy === 0 ? 'PS_EMPTY' : healthy === this.backends.size ? 'PS_FULL' : 'PS_DEGRADED',
        backends,
      };
    },
    drain: async (addr: string) => this.setLb(this.touch('drain', addr), 'out'),
    ready: async (addr: string) => this.setLb(this.touch('ready', addr), 'serving'),
    state: async (addr: string): Promise<BackendState> => {
      const b = this.touch('lbState', addr);
      return { backend: addr, lb: b.lb, healthy: this.healthy(addr) };
    },
    stats: async (): Promise<TrafficReport> => {
      this.tick();
      return { pattern: '/', at: Date.now(), backends: [...this.traffic.values()].map((t) => structuredClone(t)) };
    },
  };

  readonly health: HealthCheck = async (t: BackendTarget): Promise<HealthResult> => {
    this.onOp?.('health', t.addr);
    return this.healthy(t.addr) ? { ok: true, why: '' } : { ok: false, why: 'GET /healthz answered HTTP 500' };
  };

  agent(addr: string, name: string): AgentClient {
    const status = (b: FakeBackend): PackageStatus => ({
      name,
      binary: name,
      args: [],
      state: b.state,
      desired: b.state,
      pid: b.state === 'running' ? 1000 : null,
      restarts: 0,
      startedAt: null,
      lastExit: null,
      sha256: b.sha!,
      version: b.sha!.slice(0, 8),
      installedAt: '',
      previous: b.previous
        ? { id: b.previous.slice(0, 8), sha256: b.previous, binary: name, args: [], installedAt: '' }
        : null,
    });
    const fake = {
      health: async () => (this.touch('health', addr), 'ok'),
      status: async () => {
        const b = this.touch('status', addr);
        if (!b.sha) throw new AgentError(addr, 404, `no package ${name}`);
        return status(b);
      },
      install: async (_n: string, _zip: string, spec: { sha256?: string }) => {
        const b = this.touch('install', addr);
        b.previous = b.sha;
        b.sha = spec.sha256!;
        b.state = 'running';
        b.installs++;
        return status(b);
      },
      action: async (_n: string, op: 'start' | 'stop' | 'restart' | 'rollback') => {
        const b = this.touch(op === 'restart' ? 'start' : op, addr);
        if (op === 'stop') b.state = 'stopped';
        else if (op === 'rollback') {
          [b.sha, b.previous] = [b.previous, b.sha];
          b.rollbacks++;
          b.state = 'running';
        } else b.state = 'running';
        return status(b);
      },
    };
    return fake as unknown as AgentClient;
  }

  deps(svc: LoadedService): RolloutDeps {
    return { lb: this.lb, agentFor: (b) => this.agent(b.addr, svc.packageName), health: this.health };
  }
}

export const fakeAddrs = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80', '10.0.0.5:80'];

/** a service.json (a one-binary Src, fast timings) in a fresh folder under `parent` */
export async function fakeService(
  overrides: object = {},
  backends: readonly string[] = fakeAddrs,
  parent = tmpdir(),
): Promise<LoadedService> {
  const dir = mkdtempSync(join(parent, 'wf-'));
  writeFileSync(join(dir, 'web'), `#!/bin/sh\necho ${Math.random()}\n`, { mode: 0o755 });
  const config = {
    Concurrency: 2,
    CanaryNum: 1,
    MaxFailures: 1,
    Src: 'web',
    LB: '127.0.0.1:1',
    Pattern: '/',
    Backends: backends,
    SoakSecs: 0,
    Retries: 0,
    StepTimeoutSecs: 5,
    Health: { TimeoutSecs: 0.2 },
    ...overrides,
  };
  writeFileSync(join(dir, 'service.json'), JSON.stringify(config));
  return loadService(join(dir, 'service.json'));
}
