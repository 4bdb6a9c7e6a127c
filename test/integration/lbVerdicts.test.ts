// Canary verdicts no client can forge: the built-in LB counts against a backend only what the backend
// did (it refused, reset, timed out, sent a malformed answer or a 5xx), and what clients did apart
// (left, reset, too slow, a request the LB refused itself), in its stats, on /metrics and in
// `fleet lb stats`. Real LB code in process, raw backends, raw clients; the verdict is core/rollout's.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { BackendTraffic, TrafficReport } from '../../core/protocol/lb';
import { judge, windowOf } from '../../core/rollout/analysis';
import { fleet } from '../harness/cli';
import { lbOver } from '../harness/lbThrough';
import { freePort, httpGet, waitFor } from '../harness/net';
import { RawBackend } from '../harness/rawBackend';
import { rawExchange } from '../harness/rawHttp';

const analysis = { MinRequests: 50, MaxErrorRate: 0.02, IntervalSecs: 1, TooLittleTraffic: 'fail' as const };

/** a client that sends `path` and resets its connection once one of `backends` has the request */
async function resetAfterSent(port: number, backends: RawBackend[], path: string): Promise<void> {
  const before = backends.map((b) => b.seen(path).length);
  const s = connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  await new Promise((r) => s.once('connect', r));
  s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  await waitFor(
    async () =>
      assert.ok(
        backends.some((b, i) => b.seen(path).length > before[i]),
        'a backend has the request',
      ),
    10_000,
  );
  s.resetAndDestroy();
}

function of(r: TrafficReport, addr: string): BackendTraffic {
  const t = r.backends.find((b) => b.backend === addr);
  assert.ok(t, `no counters for ${addr} in ${JSON.stringify(r)}`);
  return t;
}

describe('built-in LB: what counts against a backend (real LB code, raw backends)', function () {
  this.timeout(60_000);

  it('a client that resets before its answer is a client abort, never a backend error, and its GET is not retried', async () => {
    const [a, b] = [await RawBackend.start(), await RawBackend.start()];
    for (const x of [a, b]) x.on('/hang', () => ({ write: [], after: 'hang' }));
    const { lb, port, control } = await lbOver([a.addr, b.addr]);
    try {
      await resetAfterSent(port, [a, b], '/hang');
      await waitFor(async () => {
        const r = await control.stats('/');
        const sum = (k: 'clientAborts' | 'errors' | 'requests') => r.backends.reduce((n, t) => n + (t[k] ?? 0), 0);
        assert.equal(sum('clientAborts'), 1, JSON.stringify(r));
      }, 10_000);
      const r = await control.stats('/');
      for (const t of r.backends) assert.equal(t.errors, 0, `${t.backend} counted an error: ${JSON.stringify(t)}`);
      assert.equal(
        r.backends.reduce((n, t) => n + t.requests, 0),
        1,
        'one try: the request was not retried',
      );
      assert.equal(a.seen('/hang').length + b.seen('/hang').length, 1, 'no second backend got the request');
    } finally {
      await lb.close();
      await a.stop();
      await b.stop();
    }
  });

  it('CONNECT is answered 400 by the LB, reaches no backend and counts against none (HAProxy answers 400 too)', async () => {
    const a = await RawBackend.start();
    const { lb, port, control } = await lbOver([a.addr]);
    try {
      const got = await rawExchange(port, ['CONNECT / HTTP/1.1\r\nHost: x\r\n\r\n'], 2);
      assert.deepEqual(got.statuses, [400], got.text);
      assert.match(got.text, /CONNECT is not served/);
      assert.ok(got.closed);
      assert.equal(a.requests.filter((r) => r.path !== '/healthz').length, 0);
      const t = of(await control.stats('/'), a.addr);
      assert.equal(t.requests, 0);
      assert.equal(t.errors, 0);
    } finally {
      await lb.close();
      await a.stop();
    }
  });

  it('15 client resets and 15 CONNECTs never fail a healthy canary; a canary that resets fails', async () => {
    const canary = await RawBackend.start();
    canary.on('/hang', () => ({ write: [], after: 'hang' }));
    const metricsPort = await freePort();
    const { lb, port, control } = await lbOver([canary.addr], { metrics: `127.0.0.1:${metricsPort}` });
    try {
      const before = await control.stats('/');
      for (let i = 0; i < 60; i++) assert.equal(await httpGet(`http://127.0.0.1:${port}/`), 'ok\n');
      for (let i = 0; i < 15; i++) await resetAfterSent(port, [canary], '/hang');
      for (let i = 0; i < 15; i++)
        assert.deepEqual((await rawExchange(port, ['CONNECT / HTTP/1.1\r\nHost: x\r\n\r\n'], 2)).statuses, [400]);
      await waitFor(async () => assert.equal(of(await control.stats('/'), canary.addr).clientAborts, 15), 10_000);
      const after = await control.stats('/');
      const w = windowOf(before, after, [canary.addr]);
      assert.deepEqual({ requests: w.requests, errors: w.errors }, { requests: 60, errors: 0 });
      const v = judge(analysis, w, w, true);
      assert.equal(v.verdict, 'pass', v.reasons.join('; '));
      // apart on /metrics
      const m = await httpGet(`http://127.0.0.1:${metricsPort}/metrics`);
      const labels = `pool="/",backend="${canary.addr}"`;
      assert.match(m, new RegExp(`^fleet_lb_backend_client_aborts_total\\{${esc(labels)}\\} 15$`, 'm'));
      assert.match(m, new RegExp(`^fleet_lb_backend_errors_total\\{${esc(labels)}\\} 0$`, 'm'));
      assert.match(m, /^fleet_lb_refused_total\{code="400"\} 15$/m);

      // the same canary now resets every request: its own doing, counted against it
      canary.on('/', () => ({ write: [], after: 'reset' }));
      const mid = await control.stats('/');
      for (let i = 0; i < 60; i++)
        assert.deepEqual((await rawExchange(port, ['GET /x HTTP/1.1\r\nHost: x\r\n\r\n'], 1)).statuses, [502]);
      const bad = windowOf(mid, await control.stats('/'), [canary.addr]);
      assert.deepEqual({ requests: bad.requests, errors: bad.errors }, { requests: 60, errors: 60 });
      assert.equal(judge(analysis, bad, bad, true).verdict, 'fail');
    } finally {
      await lb.close();
      await canary.stop();
    }
  });

  it('`fleet lb stats` shows client aborts apart from the backend errors, and what the LB answered itself', async () => {
    const a = await RawBackend.start();
    a.on('/hang', () => ({ write: [], after: 'hang' }));
    const { lb, port, control } = await lbOver([a.addr], {
      poolLimits: { maxConnsPerBackend: 1, queueTimeoutMs: 200 },
    });
    try {
      await resetAfterSent(port, [a], '/hang');
      // one request holds the backend's only slot; the next waits 200 ms in the queue, then 503
      const held = connect(port, '127.0.0.1');
      held.on('error', () => undefined);
      held.write('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(async () => assert.equal(a.seen('/hang').length, 2), 10_000);
      const full = await rawExchange(port, ['GET /y HTTP/1.1\r\nHost: x\r\n\r\n'], 1);
      held.resetAndDestroy();
      assert.deepEqual(full.statuses, [503], full.text);
      assert.match(full.text, /no backend of pool \/ had room within 200 ms/);
      await waitFor(async () => assert.equal(of(await control.stats('/'), a.addr).clientAborts, 2), 10_000);
      const r = await fleet(['lb', 'stats', '/', '--control', lb.control]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /errors\s+error %\s+p50\s+p95\s+p99\s+client aborts\s+client timeouts/);
      // 2 tries, no answer, no error, 2 ended by their clients
      assert.match(r.stdout, new RegExp(`^${esc(a.addr)}\\s+2(\\s+0){5}\\s+-(\\s+-){3}\\s+2\\s+0\\s*$`, 'm'), r.stdout);
      assert.match(r.stdout, /answered by the LB itself \(no backend tried\): 1 × 503/);
    } finally {
      await lb.close();
      await a.stop();
    }
  });

  it('a retry counts per try: the refused try on its backend, the answer on the other', async () => {
    const live = await RawBackend.start();
    const dead = `127.0.0.1:${await freePort()}`; // nothing listens there
    const { lb, port, control } = await lbOver([live.addr, dead], {}, false);
    try {
      for (let i = 0; i < 20; i++) assert.equal(await httpGet(`http://127.0.0.1:${port}/`), 'ok\n');
      const r = await control.stats('/');
      const d = of(r, dead);
      const l = of(r, live.addr);
      assert.ok(d.requests >= 1, 'the refusing backend was tried (it is picked half the time)');
      assert.equal(d.errors, d.requests, 'each try on it is its error');
      assert.equal(l.requests, 20);
      assert.equal(l.responses['2xx'], 20);
      assert.equal(l.errors, 0);
    } finally {
      await lb.close();
      await live.stop();
    }
  });

  it('with one backend, a failed try is answered with what happened, not "no healthy backend"', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const { lb, port } = await lbOver([dead], {}, false);
    try {
      const got = await rawExchange(port, ['GET / HTTP/1.1\r\nHost: x\r\n\r\n'], 1);
      assert.deepEqual(got.statuses, [503], got.text);
      assert.match(
        got.text,
        new RegExp(
          `backend ${esc(dead)} refused the connection \\(ECONNREFUSED\\); no other healthy backend in pool / to try`,
        ),
      );
      assert.doesNotMatch(got.text, /no healthy backend/);
    } finally {
      await lb.close();
    }
  });

  it('a backend that resets is counted against it and answered 502; a GET moves on to another backend', async () => {
    const [bad, good] = [await RawBackend.start(), await RawBackend.start()];
    bad.on('/', () => ({ write: [], after: 'reset' }));
    const { lb, port, control } = await lbOver([bad.addr, good.addr], {}, false);
    try {
      for (let i = 0; i < 10; i++) assert.equal(await httpGet(`http://127.0.0.1:${port}/`), 'ok\n');
      const r = await control.stats('/');
      assert.ok(of(r, bad.addr).errors >= 1 && of(r, bad.addr).errors === of(r, bad.addr).requests);
      assert.equal(of(r, good.addr).responses['2xx'], 10);
      // a POST is not moved: the backend may have acted on it
      const post = await rawExchange(port, ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi'], 1);
      assert.ok([200, 502].includes(post.statuses[0]), post.text);
      if (post.statuses[0] === 502) assert.match(post.text, /closed the connection without an answer/);
    } finally {
      await lb.close();
      await bad.stop();
      await good.stop();
    }
  });
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
