// The built-in LB's own contract: the seed's bugs fixed, bad input refused clearly, the CLI verbs.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { LbControlClient } from '../../core/lb/controlClient';
import { LbError } from '../../core/lb/types';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath, fleet } from '../harness/cli';
import { spawnTracked, stopTracked } from '../harness/processes';
import { freePort, httpGet, waitFor } from '../harness/net';
import { BuiltinLbProcess, startWebApps, type WebApp } from '../harness/webApps';

describe('built-in LB (real process)', function () {
  this.timeout(60_000);
  let lb: BuiltinLbProcess;
  let c: LbControlClient;
  let apps: WebApp[];

  before(async () => {
    lb = await BuiltinLbProcess.start();
    c = lb.client();
    apps = await startWebApps(2, `lb-builtin-${process.pid}`);
  });
  after(async () => {
    await lb?.stop();
    await Promise.all((apps ?? []).map((a) => a.stop()));
  });

  const rejects = (p: Promise<unknown>, status: number, message: RegExp) =>
    assert.rejects(p, (e: LbError) => e instanceof LbError && e.status === status && message.test(e.message));

  it('adds a backend only after it passes the health check, on the health path as given', async () => {
    await c.addPool('/', { path: '/healthz', healthyValues: ['ok'], intervalSecs: 0.5 });
    await c.addBackend('/', apps[0].addr);
    // the same backend checked on "/" answers "Hello…", not "ok": refused, so the path was used as given
    await c.addPool('/other/', { path: '/', healthyValues: ['ok'], intervalSecs: 0.5 });
    await rejects(c.addBackend('/other/', apps[1].addr), 422, /failed its health check \(GET \/ answered "Hello web/);
    assert.match(await httpGet(`${lb.url}/`), /Hello web from node lb-builtin-\d+-0/);
  });

  it('routes by the longest matching prefix', async () => {
    await c.addPool('/api/', { path: '/healthz', healthyValues: ['ok'], intervalSecs: 0.5 });
    await c.addBackend('/api/', apps[1].addr);
    assert.match(await httpGet(`${lb.url}/api/x`), /-1 /);
    assert.match(await httpGet(`${lb.url}/x`), /-0 /);
    await c.removePool('/api/');
  });

  it('fixes the seed: unknown backend removal is an error, port 65535 is valid, interval 0 is refused, no health checks is fine', async () => {
    await rejects(c.removeBackend('/', '127.0.0.1:9'), 404, /backend 127\.0\.0\.1:9 is not in pool \//);
    await rejects(
      c.addPool('/zero/', { path: '/healthz', intervalSecs: 0 }),
      400,
      /health\.intervalSecs: expected a positive number/,
    );
    await c.addPool('/nocheck/');
    await c.addBackend('/nocheck/', '127.0.0.1:65535');
    await c.addBackend('/nocheck/', apps[1].addr);
    const h = await c.poolHealth('/nocheck/');
    assert.equal(h.status, 'PS_FULL');
    await c.removeBackend('/nocheck/', '127.0.0.1:65535');
    assert.match(await httpGet(`${lb.url}/nocheck/`), /Hello/);
    await c.removePool('/nocheck/');
  });

  it('refuses bad input with a clear error', async () => {
    await rejects(c.addBackend('/nope/', apps[0].addr), 404, /no pool with pattern \/nope\//);
    await rejects(c.addBackend('/', apps[0].addr), 409, /already in pool/);
    await rejects(c.addPool('/', undefined), 409, /already exists/);
    for (const bad of [
      '1.2.3:80',
      '127.0.0.1:0',
      '127.0.0.1:65536',
      '300.1.1.1:80',
      'localhost:9092',
      'web1.example:80',
      '127.0.0.1',
    ]) {
      await rejects(c.addBackend('/', bad), 400, /backend: expected IP:PORT/);
    }
    await rejects(c.addPool('no-slash', undefined), 400, /pattern: expected a URL path prefix/);
  });

  it('refuses control requests from web pages (Origin) and foreign Hosts', async () => {
    for (const headers of [{ origin: 'http://evil.example', host: lb.control }, { host: 'evil.example' }]) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: lb.controlPort,
            method: 'POST',
            path: '/v1/remove-pool',
            headers: { ...headers, 'content-type': 'application/json' },
          },
          (r) => {
            r.resume();
            resolve(r.statusCode!);
          },
        );
        req.on('error', reject);
        req.end('{"pattern":"/"}');
      });
      assert.equal(status, 403);
    }
    assert.equal((await c.poolHealth('/')).status, 'PS_FULL');
  });

  it('drives the LB from the CLI verbs, with the seed table and exit codes', async () => {
    const ctl = ['--control', lb.control, '--token-file', lb.tokenFile];
    assert.equal((await fleet(['lb', 'add-pool', '/cli/', '--health-path', '/healthz', ...ctl])).code, 0);
    assert.equal((await fleet(['lb', 'add-backend', '/cli/', apps[1].addr, ...ctl])).code, 0);
    const h = await fleet(['lb', 'pool-health', '/cli/', ...ctl]);
    assert.equal(h.stdout, `Pool\tStatus\n/cli/\tPS_FULL\n\nBackend\tStatus\n${apps[1].addr}\tBS_HEALTHY\n`);
    const host = await fleet(['lb', 'add-backend', '/cli/', 'localhost:80', ...ctl]);
    assert.equal(host.code, 64);
    assert.match(host.stderr, /host names are not accepted/);
    const unknown = await fleet(['lb', 'remove-backend', '/cli/', '127.0.0.1:1', ...ctl]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /backend 127\.0\.0\.1:1 is not in pool \/cli\//);
    assert.equal((await fleet(['lb', 'remove-backend', '/cli/', apps[1].addr, ...ctl])).code, 0);
    const down = await fleet(['lb', 'pool-health', '/', '--control', '127.0.0.1:1', '--token-file', lb.tokenFile]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach the control API: ECONNREFUSED/);
  });

  it('refuses control requests without the token (401), and a TCP control address without one is a usage error', async () => {
    const noToken = await fleet(['lb', 'pool-health', '/', '--control', lb.control]);
    assert.equal(noToken.code, 64);
    assert.match(noToken.stderr, /needs its token: --token-file FILE .* or FLEET_LB_TOKEN/);
    const wrong = await fleet(['lb', 'add-backend', '/', '127.0.0.1:1', '--control', lb.control], {
      env: { FLEET_LB_TOKEN: 'x'.repeat(43) },
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /401|missing or wrong bearer token/);
    assert.ok(!(await c.poolHealth('/')).backends.some((b) => b.backend === '127.0.0.1:1'), 'nothing was added');
  });

  it('listens on a unix socket of mode 0600 by default, which needs no token', async () => {
    const home = mkdtempSync(join(tmpdir(), 'lbhome-'));
    const port = await freePort();
    const p = spawnTracked(process.execPath, [cliPath, 'lb', 'serve', '--http', `127.0.0.1:${port}`], {
      env: { ...process.env, HOME: home },
    });
    try {
      const sock = join(home, '.fleet', 'lb', 'control.sock');
      await waitFor(async () => assert.ok(existsSync(sock)), 10_000);
      assert.equal(statSync(sock).mode & 0o777, 0o600);
      const r = await fleet(['lb', 'add-pool', '/u/'], { home });
      assert.equal(r.code, 0, r.stderr);
      const h = await fleet(['lb', 'pool-health', '/u/', '--json'], { home });
      assert.equal(JSON.parse(h.stdout).pattern, '/u/');
    } finally {
      await stopTracked(p);
    }
  });

  it('answers 503 when a pool has no healthy backend, and 404 when no pool matches', async () => {
    await c.addPool('/empty/', { path: '/healthz', intervalSecs: 0.2 });
    await assert.rejects(httpGet(`${lb.url}/empty/`), /503/);
    await c.removePool('/');
    await assert.rejects(httpGet(`${lb.url}/`), /404.*no pool serves/);
  });
});
