// Canary analysis and the out-of-service budget: the window arithmetic and the verdict (pure), then
// the workflow against the in-memory fleet, whose versions serve traffic with a chosen error rate
// and latency. The same runs against the real LB, HAProxy and Prometheus in test/integration/.
import assert from 'node:assert/strict';
import { judge, quantileMs, summarize, windowOf, type AnalysisConfig } from '../../core/rollout/analysis';
import { readJournal, type JournalEvent } from '../../core/rollout/journal';
import { fillQuery } from '../../core/rollout/prometheus';
import { PreconditionError, Rollout } from '../../core/rollout/workflow';
import { latencyBoundsMs, type BackendTraffic, type TrafficReport } from '../../core/protocol/lb';
import { fakeAddrs, fakeService, FakeFleet } from './fakeFleet';

const cfg: AnalysisConfig = { MinRequests: 20, MaxErrorRate: 0.05, IntervalSecs: 1, TooLittleTraffic: 'fail' };

function traffic(backend: string, requests: number, e5xx: number, latencyMs = 2, errors = 0): BackendTraffic {
  const counts = new Array<number>(latencyBoundsMs.length + 1).fill(0);
  const i = latencyBoundsMs.findIndex((b) => latencyMs <= b);
  counts[i === -1 ? latencyBoundsMs.length : i] = requests - errors;
  return {
    backend,
    requests,
    responses: { '1xx': 0, '2xx': requests - errors - e5xx, '3xx': 0, '4xx': 0, '5xx': e5xx },
    errors,
    latency: { kind: 'histogram', counts, sumMs: latencyMs * (requests - errors) },
  };
}
const report = (...b: BackendTraffic[]): TrafficReport => ({ pattern: '/', at: 0, backends: b });

describe('canary analysis: windows and verdicts', () => {
  it('a window is the difference of two reports; a counter that went down was reset and counts from zero', () => {
    const before = report(traffic('c', 100, 5), traffic('b', 1000, 0));
    const after = report(traffic('c', 150, 15), traffic('b', 10, 1));
    const c = windowOf(before, after, ['c']);
    assert.equal(c.requests, 50);
    assert.equal(c.errors, 10);
    const b = windowOf(before, after, ['b']);
    assert.equal(b.requests, 10, 'after an LB restart the later value is the window');
    assert.equal(b.errors, 1);
  });

  it('p95 from the histogram, interpolated in its bucket; null without answers', () => {
    const counts = new Array<number>(latencyBoundsMs.length + 1).fill(0);
    counts[latencyBoundsMs.indexOf(10)] = 100; // all between 5 and 10 ms
    assert.equal(quantileMs(counts, 0.95), 9.75);
    assert.equal(quantileMs(new Array<number>(14).fill(0), 0.95), null);
  });

  it('fails a canary over MaxErrorRate as soon as it has MinRequests, with both sides in the reason', () => {
    const r = judge(
      cfg,
      windowOf(undefined, report(traffic('c', 40, 8)), ['c']),
      windowOf(undefined, report(traffic('b', 200, 1)), ['b']),
      false,
    );
    assert.equal(r.verdict, 'fail');
    assert.match(
      r.reasons[0],
      /canary error rate 20\.0 % \(8 of 40\) is over MaxErrorRate 5\.0 %; baseline 0\.5 % \(1 of 200\)/,
    );
  });

  it('is pending before MinRequests, and at the end too little traffic is TooLittleTraffic', () => {
    const c = windowOf(undefined, report(traffic('c', 5, 5)), ['c']);
    const b = windowOf(undefined, report(traffic('b', 100, 0)), ['b']);
    assert.equal(judge(cfg, c, b, false).verdict, 'pending');
    const end = judge(cfg, c, b, true);
    assert.equal(end.verdict, 'fail');
    assert.match(end.reasons[0], /only 5 request\(s\) reached the canary during the soak, fewer than MinRequests 20/);
    assert.equal(judge({ ...cfg, TooLittleTraffic: 'pass' }, c, b, true).verdict, 'warn');
  });

  it('compares p95 with the baseline when MaxLatencyRatio is set; tiny latencies are not told apart', () => {
    const slow = windowOf(undefined, report(traffic('c', 100, 0, 90)), ['c']);
    const fast = windowOf(undefined, report(traffic('b', 100, 0, 20)), ['b']);
    const r = judge({ ...cfg, MaxLatencyRatio: 2 }, slow, fast, true);
    assert.equal(r.verdict, 'fail');
    assert.match(r.reasons[0], /canary p95 \d+ ms is \d\.\d\dx the baseline's \d+ ms, over MaxLatencyRatio 2/);
    const a = windowOf(undefined, report(traffic('c', 100, 0, 0.9)), ['c']);
    const b = windowOf(undefined, report(traffic('b', 100, 0, 0.2)), ['b']);
    assert.equal(judge({ ...cfg, MaxLatencyRatio: 2 }, a, b, true).verdict, 'pass');
  });

  it('HAProxy-style means are weighted by requests', () => {
    const mean = (backend: string, requests: number, meanMs: number): BackendTraffic => ({
      ...traffic(backend, requests, 0),
      latency: { kind: 'mean', meanMs },
    });
    const w = windowOf(undefined, report(mean('a', 100, 10), mean('b', 300, 30)), ['a', 'b']);
    assert.equal(summarize(w).latencyMs, 25);
    assert.equal(summarize(w).latencyKind, 'mean');
  });

  it('fills {backend} and {baseline} (a regex, escaped for a PromQL string) into a query', () => {
    assert.equal(
      fillQuery('x{backend="{backend}"} / y{backend=~"{baseline}"}', '10.0.0.1:80', ['10.0.0.2:80', '10.0.0.3:80']),
      'x{backend="10.0.0.1:80"} / y{backend=~"10\\\\.0\\\\.0\\\\.2:80|10\\\\.0\\\\.0\\\\.3:80"}',
    );
  });
});

describe('canary analysis and the budget in the workflow (in-memory fleet)', () => {
  const analysis = { MinRequests: 20, MaxErrorRate: 0.05, IntervalSecs: 0.1 };
  const events = (r: Rollout) => readJournal(r.journal.file);
  const analyses = (es: JournalEvent[]) => es.filter((e) => e.t === 'analysis');

  it('a canary that fails 30 % of its requests is stopped during the soak, with the numbers, and rolled back', async () => {
    const svc = await fakeService({ SoakSecs: 2, Analysis: analysis, RollbackOnFailure: true });
    const w = new FakeFleet(fakeAddrs);
    w.versionTraffic.set(svc.sha256, { errorRate: 0.3, latencyMs: 2 });
    const r = new Rollout(svc, w.deps(svc));
    assert.equal(await r.run(), 'ESCanaryFailure');
    const es = events(r);
    const last = analyses(es).at(-1)!;
    assert.ok(last.t === 'analysis' && last.verdict === 'fail' && !last.final, 'failed before the soak ended');
    const failed = es.find((e) => e.t === 'backend' && e.result === 'failed');
    assert.match(
      failed && failed.t === 'backend' ? failed.error! : '',
      /canary analysis failed: canary error rate 30\.0 %/,
    );
    assert.equal(w.backends.get(fakeAddrs[0])!.rollbacks, 1);
    assert.deepEqual(
      fakeAddrs.slice(1).map((a) => w.backends.get(a)!.installs),
      [0, 0, 0, 0],
      'no other backend was touched',
    );
  });

  it('a healthy new version passes its analysis and rolls out everywhere', async () => {
    const svc = await fakeService({ SoakSecs: 0.5, Analysis: analysis });
    const w = new FakeFleet(fakeAddrs);
    const r = new Rollout(svc, w.deps(svc));
    assert.equal(await r.run(), 'ESSuccess');
    const final = analyses(events(r)).find((e) => e.t === 'analysis' && e.final);
    assert.ok(final && final.t === 'analysis' && final.verdict === 'pass' && final.canary.requests >= 20);
  });

  it('too little traffic fails by default, and passes with a warning when TooLittleTraffic is pass', async () => {
    for (const [too, result] of [
      ['fail', 'ESCanaryFailure'],
      ['pass', 'ESSuccess'],
    ] as const) {
      const svc = await fakeService({ SoakSecs: 0.3, Analysis: { ...analysis, TooLittleTraffic: too } });
      const w = new FakeFleet(fakeAddrs);
      w.requestsPerTick = 1;
      const r = new Rollout(svc, w.deps(svc));
      assert.equal(await r.run(), result);
      const es = events(r);
      const note = es.find((e) => e.t === 'note' && /passed with a warning: only \d request/.test(e.text));
      assert.equal(Boolean(note), too === 'pass');
    }
  });

  it('MaxUnavailable: refuses to start when backends already out use the budget, naming them', async () => {
    const svc = await fakeService({ MaxUnavailable: 2 });
    const w = new FakeFleet(fakeAddrs);
    w.sick.add(fakeAddrs[3]);
    w.notInPool.add(fakeAddrs[4]);
    const r = new Rollout(svc, w.deps(svc));
    await assert.rejects(
      r.run(),
      (e: Error) =>
        e instanceof PreconditionError &&
        /2 of 5 backends are already out of service \(10\.0\.0\.4:80, 10\.0\.0\.5:80\), and MaxUnavailable is 2/.test(
          e.message,
        ),
    );
    assert.equal(w.maxOut, 0, 'nothing was touched');
  });

  it('MaxUnavailable: a sick backend counts, so the rollout never has more than the budget out, whatever Concurrency says', async () => {
    const svc = await fakeService({ MaxUnavailable: '40%', Concurrency: 4 }); // 40 % of 5 = 2
    const w = new FakeFleet(fakeAddrs);
    w.sick.add(fakeAddrs[4]); // out of service before the rollout, and stays so
    let worst = 0;
    w.onOp = () => {
      const out = [...w.backends.values()].filter((b) => b.lb !== 'serving' || !w.healthy(b.addr)).length;
      worst = Math.max(worst, out);
    };
    const r = new Rollout(svc, w.deps(svc));
    const end = await r.run();
    assert.ok(worst <= 2, `at most 2 out of service at once, saw ${worst}`);
    assert.equal(end, 'ESSuccess', 'with one failure within MaxFailures 1');
    const failed = events(r).filter((e) => e.t === 'backend' && e.result === 'failed');
    assert.deepEqual(
      failed.map((e) => e.t === 'backend' && e.backend),
      [fakeAddrs[4]],
      'the sick backend fails its own upgrade (it never gets healthy)',
    );
    assert.deepEqual(
      fakeAddrs.slice(0, 4).map((a) => w.backends.get(a)!.sha),
      fakeAddrs.slice(0, 4).map(() => svc.sha256),
    );
  });
});
