// A Prometheus HTTP API client: instant queries (`/api/v1/query`), with no auth, basic auth or a
// bearer token. Answers are checked, not trusted: a sample whose value is not a number is dropped.
// Used by canary analysis (core/rollout/prometheus.ts) and the fleet's host stats (core/fleetView/promStats.ts).
import { advice } from '../advice';
import { FleetError } from '../errors';

export class PrometheusError extends FleetError {}

export type PrometheusAuth =
  { kind: 'none' } | { kind: 'basic'; user: string; password: string } | { kind: 'bearer'; token: string };

export interface Sample {
  labels: Record<string, string>;
  value: number;
  /** when Prometheus evaluated the query, in ms since the epoch */
  at: number;
}

export interface PrometheusOptions {
  auth?: PrometheusAuth;
  /** per query (default 5 s) */
  timeoutMs?: number;
}

/** the most bytes of an answer read (a query that matches the whole TSDB is refused, not buffered) */
const maxAnswerBytes = 32 * 1024 * 1024;

export class PrometheusClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly opts: PrometheusOptions = {},
  ) {
    let u: URL;
    try {
      u = new URL(baseUrl);
    } catch {
      throw new PrometheusError(`${baseUrl} is not a URL: give Prometheus as http(s)://host:port`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new PrometheusError(`${baseUrl}: Prometheus is reached over http:// or https://`);
    if (u.username || u.password)
      throw new PrometheusError(
        `${u.host}: Prometheus credentials go in a file, not in the URL: ${advice().prometheusCredentials}`,
      );
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** an instant vector query: one sample per series (a scalar answer is one sample without labels) */
  async query(query: string, signal?: AbortSignal): Promise<Sample[]> {
    const url = `${this.baseUrl}/api/v1/query?query=${encodeURIComponent(query)}`;
    const s = AbortSignal.any([AbortSignal.timeout(this.opts.timeoutMs ?? 5000), ...(signal ? [signal] : [])]);
    let res: Response;
    try {
      res = await fetch(url, { signal: s, headers: authHeaders(this.opts.auth) });
    } catch (e) {
      // fetch says only "fetch failed"; the cause names what happened (ECONNREFUSED, a timeout)
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (e as Error).message;
      throw new PrometheusError(
        `Prometheus at ${this.baseUrl} did not answer (${why}): check the URL and that it runs`,
      );
    }
    if (res.status === 401 || res.status === 403)
      throw new PrometheusError(
        `Prometheus at ${this.baseUrl} refused the credentials (HTTP ${res.status}): check its user, password or token`,
      );
    const text = await readCapped(res);
    let body: { status?: string; error?: string; data?: { resultType?: string; result?: unknown } } | null = null;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: reported below with the status
    }
    if (!res.ok || body?.status !== 'success' || !body.data)
      throw new PrometheusError(
        `Prometheus at ${this.baseUrl} refused the query ${query}: ${body?.error ?? `HTTP ${res.status}`}`,
      );
    const { resultType, result } = body.data;
    if (resultType === 'scalar') {
      const [at, v] = result as [number, string];
      const value = Number(v);
      return Number.isFinite(value) ? [{ labels: {}, value, at: at * 1000 }] : [];
    }
    if (resultType !== 'vector' || !Array.isArray(result))
      throw new PrometheusError(`the query ${query} gives a ${resultType}; give one that yields an instant vector`);
    const out: Sample[] = [];
    for (const r of result as Array<{ metric?: Record<string, string>; value?: [number, string] }>) {
      const value = Number(r.value?.[1]);
      if (!r.value || !Number.isFinite(value)) continue;
      out.push({ labels: r.metric ?? {}, value, at: r.value[0] * 1000 });
    }
    return out;
  }
}

function authHeaders(auth: PrometheusAuth | undefined): Record<string, string> {
  if (!auth || auth.kind === 'none') return {};
  if (auth.kind === 'bearer') return { authorization: `Bearer ${auth.token}` };
  return { authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}` };
}

async function readCapped(res: Response): Promise<string> {
  if (!res.body) return '';
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
    n += c.length;
    if (n > maxAnswerBytes) throw new PrometheusError(`Prometheus answered more than ${maxAnswerBytes >> 20} MiB`);
    chunks.push(Buffer.from(c));
  }
  return Buffer.concat(chunks).toString('utf8');
}
