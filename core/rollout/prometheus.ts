// The Prometheus provider of canary analysis: one instant query (`/api/v1/query`), `{backend}` and
// `{baseline}` filled in, answered by one number (the first sample of a vector, or a scalar). No
// data (an empty vector, NaN) is null: the analysis treats it as too little traffic.
import { FleetError } from '../errors';

export class PrometheusError extends FleetError {}

/** `{backend}` → the canary's address; `{baseline}` → a regex matching the baseline's addresses (for `=~`) */
export function fillQuery(query: string, canary: string, baseline: readonly string[]): string {
  const re = baseline.map((b) => b.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&')).join('|');
  return query.replace(/\{backend\}/g, canary).replace(/\{baseline\}/g, re || '^$');
}

export async function queryPrometheus(
  baseUrl: string,
  query: string,
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<number | null> {
  const url = `${baseUrl.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`;
  const signal = AbortSignal.any([AbortSignal.timeout(opts.timeoutMs ?? 5000), ...(opts.signal ? [opts.signal] : [])]);
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (e) {
    throw new PrometheusError(`Prometheus at ${baseUrl} did not answer: ${(e as Error).message}`);
  }
  const body = (await res.json().catch(() => null)) as {
    status?: string;
    error?: string;
    data?: { resultType: string; result: unknown };
  } | null;
  if (!res.ok || body?.status !== 'success')
    throw new PrometheusError(`Prometheus refused the query ${query}: ${body?.error ?? `HTTP ${res.status}`}`);
  const { resultType, result } = body.data!;
  let raw: string | undefined;
  if (resultType === 'scalar') raw = (result as [number, string])[1];
  else if (resultType === 'vector') raw = (result as Array<{ value: [number, string] }>)[0]?.value[1];
  else throw new PrometheusError(`the query ${query} gives a ${resultType}; give one that yields a single number`);
  if (raw === undefined) return null;
  const v = Number(raw);
  return Number.isFinite(v) ? v : null;
}
