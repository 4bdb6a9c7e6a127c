// The canary's analysis during its soak: every IntervalSecs the LB's traffic counters (and, when
// configured, one Prometheus query) are compared between the canary and the baseline backends; the
// verdict of each look is journaled, and the first certain failure ends the soak early.
import { errorMessage } from '../errors';
import type { LoadBalancer } from '../lb/types';
import { sleep } from '../sleep';
import { judge, windowOf, type AnalysisConfig, type AnalysisResult } from './analysis';
import type { Journal } from './journal';
import { fillQuery, queryPrometheus } from './prometheus';

export interface JudgeContext {
  lb: LoadBalancer;
  journal: Pick<Journal, 'append'>;
  /** the rollout's abort: the analysis stops at once, with no verdict */
  signal: AbortSignal;
}

/**
 * Judges the canary every IntervalSecs until the soak ends, from the LB's counters (and Prometheus
 * when configured): the failure in words as soon as one is certain, else null at the end (a
 * pass, or a warning journaled as a note).
 */
export async function judgeCanary(
  ctx: JudgeContext,
  a: AnalysisConfig,
  addr: string,
  baseline: string[],
  end: number,
): Promise<string | null> {
  const { signal } = ctx;
  const stats = () => ctx.lb.stats(signal);
  const first = await stats().catch((e) => {
    ctx.journal.append({
      t: 'note',
      backend: addr,
      text: `traffic counters unreadable at the soak's start: ${errorMessage(e)}`,
    });
    return undefined;
  });
  for (;;) {
    await sleep(Math.max(0, Math.min(a.IntervalSecs * 1000, end - Date.now())), signal).catch(() => undefined);
    if (signal.aborted) return null;
    const final = Date.now() >= end - 20;
    let result: AnalysisResult;
    try {
      const now = await stats();
      result = judge(a, windowOf(first, now, [addr]), windowOf(first, now, baseline), final);
    } catch (e) {
      if (signal.aborted) return null;
      if (!final) continue;
      result = unreadable(a, `the LB's traffic counters could not be read: ${errorMessage(e)}`);
    }
    let prometheus: { query: string; value: number | null } | undefined;
    if (a.Prometheus && result.verdict !== 'fail') {
      const query = fillQuery(a.Prometheus.Query, addr, baseline);
      const value = await queryPrometheus(a.Prometheus.URL, query, { signal }).catch((e: Error) => {
        if (final) result.reasons.push(e.message);
        return null;
      });
      prometheus = { query, value };
      result = withPrometheus(a, result, prometheus, final);
    }
    ctx.journal.append({ t: 'analysis', backend: addr, final, ...result, ...(prometheus ? { prometheus } : {}) });
    if (result.verdict === 'fail') return `canary analysis failed: ${result.reasons.join('; ')}`;
    if (final) {
      if (result.verdict === 'warn')
        ctx.journal.append({
          t: 'note',
          backend: addr,
          text: `canary analysis passed with a warning: ${result.reasons.join('; ')}`,
        });
      return null;
    }
  }
}

/** a verdict without numbers (the counters could not be read), as TooLittleTraffic says */
function unreadable(a: AnalysisConfig, why: string): AnalysisResult {
  const none = { requests: 0, errors: 0, errorRate: null, latencyMs: null, latencyKind: 'p95' as const };
  return { verdict: a.TooLittleTraffic === 'pass' ? 'warn' : 'fail', canary: none, baseline: none, reasons: [why] };
}

/** the LB-counter verdict combined with the Prometheus number: either failing fails */
function withPrometheus(
  a: AnalysisConfig,
  r: AnalysisResult,
  p: { query: string; value: number | null },
  final: boolean,
): AnalysisResult {
  const cfg = a.Prometheus!;
  const reasons = [...r.reasons];
  let verdict = r.verdict;
  if (p.value === null) {
    if (final) {
      reasons.push(`Prometheus: ${p.query} gave no data`);
      verdict = a.TooLittleTraffic === 'pass' ? (verdict === 'fail' ? 'fail' : 'warn') : 'fail';
    }
  } else if (cfg.Max !== undefined && p.value > cfg.Max) {
    reasons.push(`Prometheus: ${p.query} = ${p.value}, over Max ${cfg.Max}`);
    verdict = 'fail';
  } else if (cfg.Min !== undefined && p.value < cfg.Min) {
    reasons.push(`Prometheus: ${p.query} = ${p.value}, under Min ${cfg.Min}`);
    verdict = 'fail';
  }
  return { ...r, verdict, reasons };
}
