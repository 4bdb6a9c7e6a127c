// Limits in service.json that each pass the schema but together do not mean what a person wants:
// a step deadline shorter than the wait inside it, a failure budget that never stops anything, a
// canary that would keep serving a build its analysis failed. Warnings (the rollout would run),
// with the numbers and what to change.
import { modify } from 'jsonc-parser';
import type { CheckInput, Finding } from './diagnostics';
import { maxUnavailableOf } from './schema';

export function budgetChecks(input: CheckInput): Finding[] {
  const c = input.config;
  if (!c) return [];
  const out: Finding[] = [];
  const n = c.Backends.length;
  const rest = Math.max(0, n - c.CanaryNum);
  const warn = (path: Finding['path'], message: string) => out.push({ severity: 'warning', path, message });
  if (c.CanaryNum > n)
    warn(
      ['CanaryNum'],
      `CanaryNum ${c.CanaryNum} is more than the ${n} backends: every backend is a canary, one at a time`,
    );
  if (rest > 0 && c.MaxFailures >= rest)
    warn(
      ['MaxFailures'],
      `MaxFailures ${c.MaxFailures} lets all ${rest} backends after the canaries fail: the rollout never stops for failures; at most ${rest - 1} stops it before the last one`,
    );
  if (c.MaxUnavailable !== undefined) {
    const budget = maxUnavailableOf(c.MaxUnavailable, n);
    if (budget >= n)
      warn(
        ['MaxUnavailable'],
        `MaxUnavailable ${c.MaxUnavailable} allows all ${n} backends out of service at once: the pool could serve nothing`,
      );
    else if (budget < c.Concurrency)
      out.push({
        severity: 'info',
        path: ['Concurrency'],
        message: `Concurrency ${c.Concurrency} is capped by MaxUnavailable ${c.MaxUnavailable}: at most ${budget} backend${budget === 1 ? '' : 's'} out of service at once`,
      });
  }
  const step = c.StepTimeoutSecs;
  // pointed at the field the file gives (a default is nowhere in the text)
  const given = (path: Array<string | number>) => {
    let v: unknown = input.value;
    for (const p of path) v = (v as Record<string | number, unknown> | undefined)?.[p];
    return v !== undefined;
  };
  const either = (path: Array<string | number>) =>
    given(path) || !given(['StepTimeoutSecs']) ? path : ['StepTimeoutSecs'];
  const dflt = (path: Array<string | number>) => (given(path) ? '' : ', the default');
  if (c.Health.TimeoutSecs >= step)
    warn(
      either(['Health', 'TimeoutSecs']),
      `the health check may wait ${c.Health.TimeoutSecs} s (Health.TimeoutSecs${dflt(['Health', 'TimeoutSecs'])}), but each step ends after StepTimeoutSecs ${step} s: a slow start fails at the step's deadline; raise StepTimeoutSecs above ${c.Health.TimeoutSecs}`,
    );
  if (c.DrainTimeoutSecs >= step)
    warn(
      either(['DrainTimeoutSecs']),
      `draining may take ${c.DrainTimeoutSecs} s (DrainTimeoutSecs${dflt(['DrainTimeoutSecs'])}), but each step ends after StepTimeoutSecs ${step} s: a long drain fails at the step's deadline; raise StepTimeoutSecs above ${c.DrainTimeoutSecs}`,
    );
  if (c.Analysis && !c.RollbackOnFailure && c.CanaryNum > 0) {
    const given = 'RollbackOnFailure' in input.value;
    out.push({
      severity: 'warning',
      path: given ? ['RollbackOnFailure'] : ['Analysis'],
      atKey: !given,
      message:
        'a canary that fails its analysis keeps serving the new build until someone acts: set RollbackOnFailure to true to bring its previous version back',
      fixes: [
        {
          title: 'Set RollbackOnFailure to true',
          edits: modify(input.text, ['RollbackOnFailure'], true, {
            formattingOptions: { insertSpaces: true, tabSize: 2 },
          }),
        },
      ],
    });
  }
  return out;
}
