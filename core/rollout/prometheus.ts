// The Prometheus provider of canary analysis: one instant query (`/api/v1/query`), `{backend}` and
// `{baseline}` filled in, answered by one number (the first sample of a vector, or a scalar). No
// data (an empty vector, NaN) is null: the analysis treats it as too little traffic.
import { PrometheusClient, PrometheusError, type PrometheusAuth } from '../prometheus/client';

export { PrometheusError };

/** `{backend}` → the canary's address; `{baseline}` → a regex matching the baseline's addresses (for `=~`) */
export function fillQuery(query: string, canary: string, baseline: readonly string[]): string {
  const re = baseline.map((b) => b.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&')).join('|');
  return query.replace(/\{backend\}/g, canary).replace(/\{baseline\}/g, re || '^$');
}

/** the query's one number: the first sample of a vector, or a scalar; null when there is none */
export async function queryPrometheus(
  baseUrl: string,
  query: string,
  opts: { signal?: AbortSignal; timeoutMs?: number; auth?: PrometheusAuth } = {},
): Promise<number | null> {
  const samples = await new PrometheusClient(baseUrl, opts).query(query, opts.signal);
  return samples[0]?.value ?? null;
}
