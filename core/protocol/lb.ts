// The built-in LB's control API types (seed's classLB over HTTP/JSON), shared by lb/ and core/lb.
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { parseHostPort } from '../hostPort';

export type PoolStatus = 'PS_FULL' | 'PS_EMPTY' | 'PS_DEGRADED';
export type BackendHealth = 'BS_HEALTHY' | 'BS_SICK';

export interface BackendReport {
  backend: string;
  status: BackendHealth;
  /** removed from rotation, waiting for its in-flight requests */
  draining?: boolean;
  inflight?: number;
  /** upgraded connections (WebSocket) open to it; a drain closes them at its timeout */
  tunnels?: number;
}

export interface PoolHealthReport {
  pattern: string;
  status: PoolStatus;
  backends: BackendReport[];
}

/** IP:PORT, IPv4 or [IPv6]; host names are refused (the seed's CheckIPPort) */
export const backendAddr = z.string().refine((s) => parseBackend(s) !== null, {
  message:
    'expected IP:PORT like 127.0.0.1:9092 (a port from 1 to 65535; host names are not accepted, give the address)',
});

export function parseBackend(s: string): { host: string; port: number } | null {
  const hp = parseHostPort(s);
  if (!hp || !(isIPv4(hp.host) || (s.startsWith('[') && isIPv6(hp.host)))) return null;
  return hp;
}

export const pattern = z.string().regex(/^\/\S*$/, 'expected a URL path prefix starting with /, like / or /api/');

export const healthCheckSchema = z
  .object({
    path: z
      .string()
      .regex(/^\/\S*$/, 'expected a path starting with /')
      .default('/healthz'),
    /** bodies (trimmed) that mean healthy; empty: any 2xx */
    healthyValues: z.array(z.string()).default(['ok']),
    intervalSecs: z
      .number()
      .positive('expected a positive number of seconds (0 would check without pause)')
      .max(3600)
      .default(1),
    timeoutSecs: z.number().positive().max(60).default(2),
  })
  .strict();

export const addPoolSchema = z.object({ pattern, health: healthCheckSchema.optional() }).strict();
export const removePoolSchema = z.object({ pattern }).strict();
export const addBackendSchema = z.object({ pattern, backend: backendAddr }).strict();
export const removeBackendSchema = z
  .object({ pattern, backend: backendAddr, drainTimeoutSecs: z.number().positive().max(3600).default(30) })
  .strict();

/** response-time histogram bounds (ms) of the built-in LB; `le` in seconds on /metrics */
export const latencyBoundsMs = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;

/**
 * What a backend's traffic looks like, cumulative since the LB first routed to that address. Each try
 * ends one way: an answer (`responses`, counted at its head), no answer through the backend's fault
 * (`errors`), or ended by the client before its answer was whole (`clientAborts`, `clientTimeouts`;
 * an answer whose head had come is also in `responses`). Only `errors`, `brokenAnswers` and 5xx are
 * the backend's doing.
 */
export interface BackendTraffic {
  backend: string;
  /** tries routed to it (each try of a retried request counts on its backend) */
  requests: number;
  /** final answers by class (1xx: a 101 that opened a tunnel; 103 and other interim answers are not counted) */
  responses: { '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  /** tries the backend did not answer: it refused, reset, timed out, or sent a malformed answer head */
  errors: number;
  /** answers (not 5xx) the backend broke off after their head: reset, timed out, malformed body (built-in LB) */
  brokenAnswers?: number;
  /** tries ended because the client left (closed, reset, or broke its request's framing) before its answer was whole */
  clientAborts?: number;
  /** tries ended because the client was too slow: its body, or taking its answer */
  clientTimeouts?: number;
  /** tries answered 101 (a tunnel: WebSocket) */
  upgrades?: number;
  /** tunnels open to it now */
  tunnels?: number;
  /**
   * time to the response headers: a histogram (built-in LB; `counts[i]` answers took at most
   * latencyBoundsMs[i], the last entry counts the rest), or HAProxy's mean of its last 1024
   */
  latency: { kind: 'histogram'; counts: number[]; sumMs: number } | { kind: 'mean'; meanMs: number };
}

/** what a pool's clients did that no backend is to blame for (built-in LB) */
export interface PoolFrontTraffic {
  /** requests the LB answered itself without trying a backend, by status (503: none free or healthy; 413; 400) */
  refused: Record<string, number>;
  /** clients that left before a backend was tried (while their body was read, or in the queue) */
  clientAborts: number;
  /** clients too slow with their body before a backend was tried */
  clientTimeouts: number;
  /** requests waiting now for a backend with room in its connection budget */
  queued: number;
}

export interface TrafficReport {
  pattern: string;
  /** ms since the epoch, on the LB's clock */
  at: number;
  backends: BackendTraffic[];
  front?: PoolFrontTraffic;
}
