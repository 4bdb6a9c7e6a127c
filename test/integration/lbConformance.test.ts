// One conformance suite, two load balancers: Fleet's built-in LB and HAProxy (Debian's), each
// driven through its core/lb adapter, with real sample web backends behind it.
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { BuiltinLb } from '../../core/lb/builtin';
import { HaproxyLb } from '../../core/lb/haproxy';
import type { LoadBalancer } from '../../core/lb/types';
import { waitFor } from '../harness/net';
import { startLoad } from '../harness/load';
import { BuiltinLbProcess, HaproxyProcess, startWebApps, type WebApp } from '../harness/webApps';

interface Subject {
  lb: LoadBalancer;
  url: string;
  /** requests the LB has routed to a backend and not yet seen answered, by its own count */
  inFlight(): Promise<number>;
  stop(): Promise<void>;
}

const subjects: Record<string, (apps: WebApp[]) => Promise<Subject>> = {
  builtin: async (apps) => {
    const p = await BuiltinLbProcess.start();
    const c = p.client();
    await c.addPool('/', { path: '/healthz', healthyValues: ['ok'], intervalSecs: 0.2 });
    for (const a of apps) await c.addBackend('/', a.addr);
    const lb = new BuiltinLb(p.control, '/', p.token);
    const inFlight = async () =>
      (await lb.stats()).backends.reduce(
        (n, b) => n + b.requests - b.errors - Object.values(b.responses).reduce((x, y) => x + y, 0),
        0,
      );
    return { lb, url: p.url, inFlight, stop: () => p.stop() };
  },
  haproxy: async (apps) => {
    const h = await HaproxyProcess.start(apps.map((a) => a.addr));
    const lb = new HaproxyLb(h.socket, 'web');
    await waitFor(async () => assert.equal((await lb.poolHealth()).status, 'PS_FULL'), 10_000);
    // scur: a server's current sessions (HAProxy counts a request in req_tot only once it ends)
    const inFlight = async () =>
      (await lb.runtime.stat())
        .filter((r) => r.pxname === 'web' && r.addr)
        .reduce((n, r) => n + (Number(r.scur) || 0), 0);
    return { lb, url: h.url, inFlight, stop: () => h.stop() };
  },
};

function fetchNode(url: string): Promise<{ status: number; node: string; at: number }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, node: String(res.headers['x-fleet-node'] ?? ''), at: Date.now() }),
      );
    }).on('error', reject);
  });
}

for (const [kind, make] of Object.entries(subjects)) {
  describe(`LB conformance: ${kind}`, function () {
    this.timeout(120_000);
    let apps: WebApp[];
    let s: Subject;
    before(async () => {
      apps = await startWebApps(3, `${kind}-conf-${process.pid}`);
      s = await make(apps);
    });
    after(async () => {
      await s?.stop();
      await Promise.all((apps ?? []).map((a) => a.stop()));
    });

    it('reports a full pool with every backend healthy', async () => {
      const h = await s.lb.poolHealth();
      assert.equal(h.status, 'PS_FULL');
      assert.deepEqual(h.backends.map((b) => b.backend).sort(), apps.map((a) => a.addr).sort());
      assert.ok(h.backends.every((b) => b.status === 'BS_HEALTHY'));
    });

    it("counts each backend's requests and answers by class (the same numbers both ways)", async () => {
      const before = await s.lb.stats();
      const n = 30;
      for (let i = 0; i < n; i++) assert.equal((await fetchNode(`${s.url}/`)).status, 200);
      const after = await s.lb.stats();
      const sum = (r: typeof after, f: (b: (typeof after.backends)[number]) => number) =>
        r.backends.filter((b) => apps.some((a) => a.addr === b.backend)).reduce((a, b) => a + f(b), 0);
      assert.equal(sum(after, (b) => b.requests) - sum(before, (b) => b.requests), n);
      assert.equal(sum(after, (b) => b.responses['2xx']) - sum(before, (b) => b.responses['2xx']), n);
      assert.equal(sum(after, (b) => b.errors) - sum(before, (b) => b.errors), 0);
      for (const b of after.backends) assert.ok(b.latency.kind === (kind === 'builtin' ? 'histogram' : 'mean'));
    });

    it('pool health follows backend health: a stopped backend is sick, the pool degraded, then full again', async () => {
      await apps[2].stop();
      await waitFor(async () => {
        const h = await s.lb.poolHealth();
        assert.equal(h.status, 'PS_DEGRADED');
        assert.equal(h.backends.find((b) => b.backend === apps[2].addr)?.status, 'BS_SICK');
      }, 15_000);
      await apps[2].start();
      await waitFor(async () => assert.equal((await s.lb.poolHealth()).status, 'PS_FULL'), 15_000);
    });

    it('drain sends no new requests to the backend while its in-flight ones finish; ready brings it back', async () => {
      const target = apps[0];
      // slow requests spread over all backends; some land on the target. The drain starts once the
      // LB holds at least 3 of them in flight (its own count; both spread the first 3 over the 3
      // backends), not after a sleep that a busy machine outlasts
      const slow = Array.from({ length: 9 }, () => fetchNode(`${s.url}/slow?ms=1500`));
      await waitFor(async () => assert.ok((await s.inFlight()) >= 3), 10_000);
      const drained = s.lb.drain(target.addr, { timeoutMs: 20_000 }).then(() => Date.now());
      // the drain has taken effect (a positive marker, not a sleep) before the requests that must avoid it
      await waitFor(async () => assert.equal((await s.lb.state(target.addr)).lb, 'draining'), 10_000);
      const during = await Promise.all(Array.from({ length: 30 }, () => fetchNode(`${s.url}/`)));
      assert.ok(
        during.every((r) => r.status === 200),
        'requests during the drain succeed',
      );
      assert.ok(!during.some((r) => r.node === target.node), 'no new request reached the draining backend');
      const slowDone = await Promise.all(slow);
      assert.ok(
        slowDone.every((r) => r.status === 200),
        'in-flight requests finished',
      );
      const onTarget = slowDone.filter((r) => r.node === target.node);
      assert.ok(onTarget.length > 0, 'some slow requests were in flight on the drained backend');
      const drainedAt = await drained;
      assert.ok(
        drainedAt >= Math.max(...onTarget.map((r) => r.at)) - 50,
        'drain returned before its in-flight requests finished',
      );
      assert.equal((await s.lb.state(target.addr)).lb, 'out');
      assert.ok(!(await s.lb.poolHealth()).backends.some((b) => b.backend === target.addr));

      await s.lb.ready(target.addr);
      await waitFor(async () => {
        const rs = await Promise.all(Array.from({ length: 12 }, () => fetchNode(`${s.url}/`)));
        assert.ok(
          rs.some((r) => r.node === target.node),
          'traffic is back on the backend',
        );
      }, 10_000);
      assert.equal((await s.lb.state(target.addr)).lb, 'serving');
    });

    it('drain and ready are idempotent', async () => {
      await s.lb.drain(apps[1].addr);
      await s.lb.drain(apps[1].addr);
      await s.lb.ready(apps[1].addr);
      await s.lb.ready(apps[1].addr);
      await waitFor(async () => assert.equal((await s.lb.state(apps[1].addr)).lb, 'serving'));
    });

    it('loses no request while each backend is drained, restarted as v2 and made ready, one by one', async () => {
      const load = startLoad(`${s.url}/`, { workers: 4, maxRequests: 20_000, maxMs: 90_000 });
      for (const a of apps) {
        await s.lb.drain(a.addr, { timeoutMs: 20_000 });
        await a.stop();
        a.version = 'v2';
        await a.start();
        await s.lb.ready(a.addr);
        await waitFor(async () => {
          const st = await s.lb.state(a.addr);
          assert.ok(st.lb === 'serving' && st.healthy);
        }, 10_000);
      }
      await new Promise((r) => setTimeout(r, 300));
      const r = await load.stop();
      assert.equal(r.non2xx, 0, `non-2xx: ${r.failures}`);
      assert.equal(r.errors, 0, `errors: ${r.failures}`);
      assert.ok(r.ok > 100, `only ${r.ok} requests made`);
      assert.ok((r.byVersion.get('v2') ?? 0) > 0, 'v2 served after the restarts');
    });
  });
}
