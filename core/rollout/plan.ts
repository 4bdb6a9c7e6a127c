// The plan of a rollout, as `--dry-run` and the panel show it before Start: what will be installed
// (the resolved Src and its hash), which load balancer and which agents will be talked to, canaries
// one at a time, then the rest in batches of at most Concurrency (the runner keeps a sliding window
// of that size), and what the LB sees for each backend. A service.json from someone else's
// repository says here where it would send the package.
import type { LoadedService } from './config';
import { maxUnavailableOf } from './schema';

export interface Plan {
  /** the package file, resolved */
  src: string;
  sha256: string;
  /** the load balancer as it will be reached */
  lb: string;
  /** each backend and the agent endpoint the package goes to */
  agents: Array<{ addr: string; agent: string }>;
  canaries: string[];
  batches: string[][];
  lbActions: string[];
  soakSecs: number;
  maxFailures: number;
  /** backends out of service at once at most (MaxUnavailable as a count), if set */
  maxUnavailable?: number;
  /** how each canary is judged during its soak, in words, if it is */
  analysis?: string;
}

export function makePlan(svc: LoadedService): Plan {
  const all = svc.backends.map((b) => b.addr);
  const c = svc.config;
  const canaries = all.slice(0, c.CanaryNum);
  const rest = all.slice(c.CanaryNum);
  const batches: string[][] = [];
  for (let i = 0; i < rest.length; i += c.Concurrency) batches.push(rest.slice(i, i + c.Concurrency));
  const lb =
    c.LBKind === 'haproxy'
      ? `haproxy backend ${c.HAProxyBackend} via ${c.HAProxySocket}`
      : `built-in LB ${c.LB} pool ${c.Pattern}`;
  const lbActions = all.map(
    (a) =>
      `${a}: drain from ${lb}, stop, install ${svc.packageName} (${svc.sha256.slice(0, 12)}), start, health ${c.Health.Path}, re-add`,
  );
  return {
    src: svc.src,
    sha256: svc.sha256,
    lb,
    agents: svc.backends.map((b) => ({ addr: b.addr, agent: b.agent })),
    canaries,
    batches,
    lbActions,
    soakSecs: c.SoakSecs,
    maxFailures: c.MaxFailures,
    ...(c.MaxUnavailable !== undefined ? { maxUnavailable: maxUnavailableOf(c.MaxUnavailable, all.length) } : {}),
    ...(c.Analysis ? { analysis: analysisWords(c.Analysis) } : {}),
  };
}

/** `every 5s: ≥ 20 requests, errors ≤ 5.0 %, p95 ≤ 1.5x the baseline's; too little traffic fails` */
export function analysisWords(a: NonNullable<LoadedService['config']['Analysis']>): string {
  return [
    `every ${a.IntervalSecs}s: at least ${a.MinRequests} requests, errors at most ${(a.MaxErrorRate * 100).toFixed(1)} %`,
    a.MaxLatencyRatio !== undefined ? `, p95 at most ${a.MaxLatencyRatio}x the baseline's` : '',
    a.Prometheus
      ? `, and ${a.Prometheus.Query} ${[a.Prometheus.Min !== undefined ? `>= ${a.Prometheus.Min}` : '', a.Prometheus.Max !== undefined ? `<= ${a.Prometheus.Max}` : ''].filter(Boolean).join(' and ')} at ${a.Prometheus.URL}`
      : '',
    `; too little traffic ${a.TooLittleTraffic === 'pass' ? 'passes with a warning' : 'fails'}`,
  ].join('');
}

export function formatPlan(p: Plan): string {
  const lines = [
    `package: ${p.src} (sha256 ${p.sha256.slice(0, 16)}…)`,
    `load balancer: ${p.lb}`,
    'agents:',
    ...p.agents.map((a) => `  ${a.addr} ← ${a.agent}`),
    `canaries (one at a time, ${p.soakSecs}s soak after each): ${p.canaries.join(', ') || 'none'}`,
    ...(p.analysis ? [`canary analysis: ${p.analysis}`] : []),
  ];
  p.batches.forEach((b, i) => lines.push(`batch ${i + 1}: ${b.join(', ')}`));
  if (p.maxUnavailable !== undefined)
    lines.push(
      `at most ${p.maxUnavailable} of ${p.agents.length} backends out of service at once, counting those already out`,
    );
  lines.push(
    `stop starting backends once failures exceed ${p.maxFailures}`,
    'LB actions:',
    ...p.lbActions.map((a) => `  ${a}`),
  );
  return lines.join('\n') + '\n';
}
