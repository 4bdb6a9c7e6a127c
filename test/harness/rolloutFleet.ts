// A local fleet for rollout tests on free loopback ports: N web v1 backends, each under its own
// agent, behind the built-in LB (or none, for HAProxy tests), and a service.json describing them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalFleet } from '../../demo/localFleet';
import { buildExamples } from '../../examples/build';
import { agentJs } from './agentProcess';
import { freePort } from './net';

export async function rolloutFleet(
  n: number,
  service: Record<string, unknown> = {},
  opts: { lb?: 'builtin' | 'none'; src?: string; lbMetrics?: string } = {},
): Promise<LocalFleet> {
  const zips = await buildExamples(mkdtempSync(join(tmpdir(), 'zips-')));
  const ports: number[] = [];
  for (let i = 0; i < 2 + 2 * n; i++) ports.push(await freePort());
  const [control, http] = ports;
  const backends = Array.from({ length: n }, (_, i) => ({
    Addr: `127.0.0.1:${ports[2 + i]}`,
    Agent: `http://127.0.0.1:${ports[2 + n + i]}`,
  }));
  const file = join(mkdtempSync(join(tmpdir(), 'svc-')), 'service.json');
  writeFileSync(
    file,
    JSON.stringify({
      Concurrency: 2,
      CanaryNum: 1,
      MaxFailures: 1,
      Src: `dist/${opts.src ?? 'web-v2'}.zip`,
      LB: `127.0.0.1:${control}`,
      Pattern: '/',
      Backends: backends,
      Package: { Name: 'web', Binary: 'web', Args: ['--port', '{port}', '--node', 'node-{port}'] },
      SoakSecs: 0.5,
      Retries: 1,
      StepTimeoutSecs: 20,
      Health: { Path: '/healthz', Expect: 'ok', TimeoutSecs: 5 },
      ...service,
    }),
  );
  const f = new LocalFleet({
    serviceJson: file,
    zips,
    agentJs,
    lbHttp: opts.lb === 'none' ? 'none' : `127.0.0.1:${http}`,
    lbMetrics: opts.lbMetrics,
  });
  await f.start();
  return f;
}
