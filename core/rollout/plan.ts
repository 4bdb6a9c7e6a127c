// The plan of a rollout, as `--dry-run` and the panel show it: canaries one at a time, then the
// rest in batches of at most Concurrency (the runner keeps a sliding window of that size), and
// what the LB sees for each backend.
import type { LoadedService } from './config';

export interface Plan {
  canaries: string[];
  batches: string[][];
  lbActions: string[];
  soakSecs: number;
  maxFailures: number;
}

export function makePlan(svc: LoadedService): Plan {
  const all = svc.backends.map((b) => b.addr);
  const c = svc.config;
  const canaries = all.slice(0, c.CanaryNum);
  const rest = all.slice(c.CanaryNum);
  const batches: string[][] = [];
  for (let i = 0; i < rest.length; i += c.Concurrency) batches.push(rest.slice(i, i + c.Concurrency));
  const lbName = c.LBKind === 'haproxy' ? `haproxy ${c.HAProxyBackend}` : `LB ${c.LB} pool ${c.Pattern}`;
  const lbActions = all.map(
    (a) =>
      `${a}: drain from ${lbName}, stop, install ${svc.packageName} (${svc.sha256.slice(0, 12)}), start, health ${c.Health.Path}, re-add`,
  );
  return { canaries, batches, lbActions, soakSecs: c.SoakSecs, maxFailures: c.MaxFailures };
}

export function formatPlan(p: Plan): string {
  const lines = [`canaries (one at a time, ${p.soakSecs}s soak after each): ${p.canaries.join(', ') || 'none'}`];
  p.batches.forEach((b, i) => lines.push(`batch ${i + 1}: ${b.join(', ')}`));
  lines.push(
    `stop starting backends once failures exceed ${p.maxFailures}`,
    'LB actions:',
    ...p.lbActions.map((a) => `  ${a}`),
  );
  return lines.join('\n') + '\n';
}
