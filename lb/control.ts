// The control API of the built-in LB, HTTP/JSON on its own listener (the seed's gRPC verbs):
//   POST /v1/add-pool {pattern, health?}      POST /v1/remove-pool {pattern}
//   POST /v1/add-backend {pattern, backend}   POST /v1/remove-backend {pattern, backend, drainTimeoutSecs?}
//   GET  /v1/pool-health?pattern=/           GET  /v1/pools
//   GET  /v1/stats?pattern=/                  per-backend traffic: requests, answers by class, errors, response times
// remove-backend drains: it answers once the backend's in-flight requests are done (or the timeout passed,
// when its tunnels are closed: a WebSocket never ends by itself).
// Like the agent, it listens on a unix socket of mode 0600 by default and on TCP only with a bearer
// token, and refuses any Origin header and a foreign Host, so no web page and no other local user can
// drive it (add-backend would let them send the pool's traffic to an address of their choosing).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import {
  addBackendSchema,
  addPoolSchema,
  parseBackend,
  removeBackendSchema,
  removePoolSchema,
} from '../core/protocol/lb';
import { apiAccess, apiError } from '../core/protocol/httpApi';
import { ControlError, defaultPoolLimits, Pool, type PoolLimits } from './pool';

const maxControlBody = 64 * 1024;

export interface ControlGuard {
  allowedHosts: Set<string>;
  /** the bearer token every request needs (TCP); none on the unix socket, whose mode is the check */
  token?: string;
}

export function controlHandler(pools: Map<string, Pool>, guard: ControlGuard, limits: PoolLimits = defaultPoolLimits) {
  const token = guard.token ? Buffer.from(guard.token) : null;
  const routes: Record<string, (body: unknown, url: URL) => Promise<unknown>> = {
    'POST /v1/add-pool': async (body) => {
      const b = parse(addPoolSchema, body);
      if (pools.has(b.pattern)) throw new ControlError(409, `pool ${b.pattern} already exists`);
      pools.set(b.pattern, new Pool(b.pattern, b.health, limits));
      return { pattern: b.pattern };
    },
    'POST /v1/remove-pool': async (body) => {
      const b = parse(removePoolSchema, body);
      const p = need(pools, b.pattern);
      p.close();
      pools.delete(b.pattern);
      return {};
    },
    'POST /v1/add-backend': async (body) => {
      const b = parse(addBackendSchema, body);
      const addr = parseBackend(b.backend)!;
      await need(pools, b.pattern).add(b.backend, addr.host, addr.port);
      return need(pools, b.pattern).report();
    },
    'POST /v1/remove-backend': async (body) => {
      const b = parse(removeBackendSchema, body);
      return need(pools, b.pattern).drain(b.backend, b.drainTimeoutSecs * 1000);
    },
    'GET /v1/pool-health': async (_b, url) => {
      const pattern = url.searchParams.get('pattern');
      if (!pattern) throw new ControlError(400, 'pattern query parameter is required, e.g. /v1/pool-health?pattern=/');
      return need(pools, pattern).report();
    },
    'GET /v1/pools': async () => [...pools.values()].map((p) => p.report()),
    'GET /v1/stats': async (_b, url) => {
      const pattern = url.searchParams.get('pattern');
      if (!pattern) throw new ControlError(400, 'pattern query parameter is required, e.g. /v1/stats?pattern=/');
      return need(pools, pattern).trafficReport();
    },
  };

  return (req: IncomingMessage, res: ServerResponse): void => {
    const reply = (status: number, value: unknown) => {
      const text = JSON.stringify(value);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const access = apiAccess(req.headers, {
      name: 'LB',
      hostOk: (host) => guard.allowedHosts.has(host),
      tokens: token ? { full: token } : undefined,
    });
    if (!access.ok) return reply(access.status, apiError(access.error));
    const url = new URL(req.url ?? '/', 'http://lb');
    const route = routes[`${req.method} ${url.pathname}`];
    if (!route) return reply(404, apiError(`no route ${req.method} ${url.pathname}; see fleet lb --help`));
    readBody(req)
      .then((body) => route(body, url))
      .then(
        (v) => reply(200, v),
        (e: Error) => reply(e instanceof ControlError ? e.status : 500, apiError(e.message)),
      );
  };
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (req.method === 'GET') return resolve(undefined);
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      text += d;
      if (text.length > maxControlBody) {
        req.destroy();
        reject(new ControlError(413, `control request body over ${maxControlBody} bytes`));
      }
    });
    req.on('end', () => {
      try {
        resolve(text ? JSON.parse(text) : {});
      } catch {
        reject(new ControlError(400, 'body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ControlError(400, `${i.path.join('.') || 'body'}: ${i.message}`);
  }
  return r.data;
}

function need(pools: Map<string, Pool>, pattern: string): Pool {
  const p = pools.get(pattern);
  if (!p) throw new ControlError(404, `no pool with pattern ${pattern}; add it with add-pool`);
  return p;
}
