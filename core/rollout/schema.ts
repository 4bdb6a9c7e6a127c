// service.json: the seed's format accepted verbatim, plus Fleet's optional fields (PascalCase).
// This zod schema is the single source; schemas/service.schema.json is generated from it (core/schemas.ts).
import { z } from 'zod';
import { hostPortPattern, parseHostPort } from '../hostPort';
import { packageName } from '../protocol/agent';
import { backendAddr } from '../protocol/lb';

/** a path inside a package (Package.Binary, a zip entry's name): relative, no . or .. parts, printable */
export const entryPath = {
  // eslint-disable-next-line no-control-regex -- control characters are what it refuses
  pattern: /^(?!\/)(?!.*(?:^|\/)\.\.?(?:\/|$))[^\\\u0000-\u001f\u007f]{1,255}$/,
  message: 'a path inside the package: no leading /, no . or .. parts, no backslash or control characters',
};

export const backendSchema = z.union([
  backendAddr.describe('IP:PORT of the backend; its agent is reached over SSH on the same host'),
  z
    .object({
      Addr: backendAddr.describe('IP:PORT of the backend as the LB knows it'),
      Agent: z
        .string()
        .min(1)
        .optional()
        .describe(
          'agent endpoint: http://HOST:PORT, ssh://user@host[:port] or unix:/path (default ssh://HOST of Addr)',
        ),
    })
    .strict(),
]);

export const serviceSchema = z
  .object({
    $schema: z.string().optional(),
    // --- the seed's fields ---
    Concurrency: z
      .number()
      .int()
      .min(1, 'expected at least 1 backend at a time')
      .describe('backends upgraded at once after the canaries'),
    CanaryNum: z
      .number()
      .int()
      .min(0, 'expected 0 or more')
      .describe('canaries, upgraded one at a time first; any canary failure stops the rollout'),
    MaxFailures: z
      .number()
      .int()
      .min(0, 'expected 0 or more')
      .describe('failures tolerated; no new backend starts once failures exceed this'),
    Src: z
      .string()
      .min(1, 'expected the path of the package: a .zip, or a single binary')
      .describe(
        'package to roll out: a .zip (used as it is) or one binary (wrapped into a one-file package); relative to this file',
      ),
    LB: z
      .string()
      .regex(
        new RegExp(`^unix:/\\S+$|${hostPortPattern.source}`),
        'expected HOST:PORT like 127.0.0.1:9091, or unix:/path of the control socket',
      )
      .refine((s) => s.startsWith('unix:') || parseHostPort(s) !== null, 'expected a port from 1 to 65535')
      // HAProxy is reached through HAProxySocket: LB means nothing there and may be left out
      .default('')
      .describe(
        'control address of the built-in LB: HOST:PORT (with LBTokenFile or FLEET_LB_TOKEN) or unix:/path of its socket; not used with LBKind haproxy',
      ),
    Pattern: z
      .string()
      .regex(/^\/\S*$/, 'expected a URL path prefix like /')
      .describe("the LB pool's pattern"),
    Backends: z
      .array(backendSchema)
      .min(1, 'expected at least one backend')
      .describe('the backends of the pool, in rollout order'),
    // --- Fleet's optional fields ---
    LBKind: z
      .enum(['builtin', 'haproxy'])
      .default('builtin')
      .describe('which load balancer: builtin (Fleet LB control API at LB) or haproxy'),
    HAProxySocket: z
      .string()
      .optional()
      .describe('haproxy: the admin socket (stats socket … level admin); relative to this file'),
    HAProxyBackend: z
      .string()
      .regex(/^[A-Za-z0-9._:-]+$/, 'expected the name of a backend section of haproxy.cfg: letters, digits, . _ : -')
      .optional()
      .describe('haproxy: the backend whose servers are the Backends'),
    Package: z
      .object({
        Name: packageName.optional().describe('the package name on the agents (default: the file name of Src)'),
        Binary: z
          .string()
          .min(1)
          .max(255)
          // it becomes a zip entry's name: a relative path inside the package, nothing else
          .regex(entryPath.pattern, { message: entryPath.message })
          .optional()
          .describe('program inside the zip (default: the binary itself when Src is a binary)'),
        Args: z
          .array(z.string())
          .default([])
          .describe('its arguments; {addr}, {host} and {port} are replaced per backend'),
      })
      .strict()
      .default({ Args: [] }),
    LBTokenFile: z
      .string()
      .optional()
      .describe("bearer token of the built-in LB's TCP control API; a file beside this one (or set FLEET_LB_TOKEN)"),
    AgentTokenFile: z
      .string()
      .optional()
      .describe('bearer token for http:// agents; a file beside this one (or set FLEET_AGENT_TOKEN)'),
    Health: z
      .object({
        Path: z
          .string()
          .regex(/^\/\S*$/, 'expected a URL path like /healthz')
          .default('/healthz'),
        Expect: z.string().default('ok').describe('the body a healthy backend answers (trimmed); empty: any 2xx'),
        TimeoutSecs: z
          .number()
          .positive()
          .max(3600)
          .default(30)
          .describe('how long a new version may take to become healthy'),
      })
      .strict()
      .default({ Path: '/healthz', Expect: 'ok', TimeoutSecs: 30 }),
    SoakSecs: z
      .number()
      .min(0)
      .max(86_400)
      .default(60)
      .describe('wait after each canary before going on (the seed waited 1 minute)'),
    StepTimeoutSecs: z.number().positive().max(3600).default(120).describe('deadline of each step'),
    DrainTimeoutSecs: z
      .number()
      .positive()
      .max(3600)
      .default(30)
      .describe("how long the LB may take to finish a backend's requests"),
    Retries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(2)
      .describe('retries of a failed step before the backend counts as failed'),
    LeaseSecs: z
      .number()
      .min(2)
      .max(3600)
      .default(120)
      .describe(
        "how long the rollout's lease on each agent lasts without a renewal (renewed every quarter of it): after a controller dies, others can take the rollout over this long after its last renewal",
      ),
    RollbackOnFailure: z
      .boolean()
      .default(false)
      .describe("on a backend's failure, bring back its previous version and put it back in the LB"),
    MaxUnavailable: z
      .union([
        z.number().int().min(1, 'expected at least 1'),
        z.string().regex(/^(100|[1-9]?\d)%$/, 'expected a share like "25%"'),
      ])
      .optional()
      .describe(
        'backends out of service at once across the pool, counting those already unhealthy or drained: a count, or a share like "25%" (rounded down). Without it the pool must be full at the start and Concurrency is the only limit',
      ),
    Analysis: z
      .object({
        MinRequests: z
          .number()
          .int()
          .min(1)
          .default(20)
          .describe('requests the canary must serve during its soak before it can be judged'),
        MaxErrorRate: z
          .number()
          .min(0)
          .max(1)
          .default(0.05)
          .describe("the canary's largest share of 5xx answers and failed tries (0.05 = 5 %)"),
        MaxLatencyRatio: z
          .number()
          .min(1)
          .optional()
          .describe(
            'canary p95 / baseline p95 (HAProxy: mean / mean) allowed; the baseline is the backends still on the old version',
          ),
        IntervalSecs: z.number().positive().max(3600).default(5).describe('how often the soak is judged'),
        TooLittleTraffic: z
          .enum(['fail', 'pass'])
          .default('fail')
          .describe('the verdict when the canary got fewer than MinRequests by the end of its soak (pass warns)'),
        Prometheus: z
          .object({
            URL: z.string().regex(/^https?:\/\/\S+$/, 'expected the Prometheus base URL, like http://127.0.0.1:9090'),
            Query: z
              .string()
              .min(1)
              .describe(
                'PromQL giving one number; {backend} is the canary (IP:PORT), {baseline} a regex of the baseline backends',
              ),
            Max: z.number().optional().describe('fail when the query gives more'),
            Min: z.number().optional().describe('fail when the query gives less'),
          })
          .strict()
          .refine((p) => p.Max !== undefined || p.Min !== undefined, 'give Max or Min to compare the query with')
          .optional()
          .describe("judge the canary by a Prometheus query as well (its 'no data' counts as too little traffic)"),
      })
      .strict()
      .optional()
      .describe("judge each canary during its soak by the traffic it served, against the baseline's"),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.LBKind === 'builtin' && !c.LB)
      ctx.addIssue({
        code: 'custom',
        path: ['LB'],
        message:
          "the built-in LB's control address is needed: HOST:PORT like 127.0.0.1:9091, or unix:/path of its socket",
      });
    if (c.LBKind === 'haproxy' && (!c.HAProxySocket || !c.HAProxyBackend)) {
      ctx.addIssue({
        code: 'custom',
        path: [c.HAProxySocket ? 'HAProxyBackend' : 'HAProxySocket'],
        message: 'LBKind haproxy needs HAProxySocket and HAProxyBackend',
      });
    }
    if (typeof c.MaxUnavailable === 'string' && maxUnavailableOf(c.MaxUnavailable, c.Backends.length) < 1)
      ctx.addIssue({
        code: 'custom',
        path: ['MaxUnavailable'],
        message: `${c.MaxUnavailable} of ${c.Backends.length} backends rounds down to 0: nothing could ever be upgraded; give a count, or a larger share`,
      });
    if (c.Analysis && c.SoakSecs === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['SoakSecs'],
        message: 'Analysis judges each canary during its soak: SoakSecs must be more than 0',
      });
    else if (c.Analysis && c.Analysis.IntervalSecs > c.SoakSecs)
      ctx.addIssue({
        code: 'custom',
        path: ['Analysis', 'IntervalSecs'],
        message: `IntervalSecs ${c.Analysis.IntervalSecs} is longer than SoakSecs ${c.SoakSecs}: the soak would be judged only at its end`,
      });
    const seen = new Set<string>();
    c.Backends.forEach((b, i) => {
      const addr = typeof b === 'string' ? b : b.Addr;
      if (seen.has(addr))
        ctx.addIssue({ code: 'custom', path: ['Backends', i], message: `backend ${addr} is listed twice` });
      seen.add(addr);
    });
  });

export type ServiceConfig = z.output<typeof serviceSchema>;

/** MaxUnavailable as a count of `n` backends ("25%" rounds down) */
export function maxUnavailableOf(v: number | string, n: number): number {
  return typeof v === 'number' ? v : Math.floor((n * Number(v.slice(0, -1))) / 100);
}
