// Canaries judged by the traffic they really served: real agents running the sample web app, the
// built-in LB and HAProxy in front, steady load through the LB, and a real Prometheus scraping the
// built-in LB's /metrics. The flaky build (healthy /healthz, every 4th answer of / a 500) must be
// stopped at the canary and rolled back; a healthy v2 must pass; a slow build must fail its latency
// ratio; no traffic must give TooLittleTraffic's verdict; MaxUnavailable must refuse a short pool.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import type { LocalFleet } from '../../demo/localFleet';
import { HaproxyLb } from '../../core/lb/haproxy';
import { latestJournal, readJournal, type JournalEvent } from '../../core/rollout/journal';
import { fleet } from '../harness/cli';
import { startLoad } from '../harness/load';
import { freePort, httpGet, waitFor } from '../harness/net';
import { PrometheusProcess } from '../harness/prometheus';
import { rolloutFleet } from '../harness/rolloutFleet';
import { HaproxyProcess } from '../harness/webApps';

const analysis = { MinRequests: 30, MaxErrorRate: 0.05, IntervalSecs: 1 };

/** what each backend (or the first `n`) answers; a rolled-back canary may take a moment to start its v1 again */
async function versions(f: LocalFleet, n = f.config.Backends.length): Promise<string[]> {
  return waitFor(() =>
    Promise.all(
      f.config.Backends.slice(0, n).map((b) =>
        httpGet(`http://${(b as { Addr: string }).Addr}/`).then((t) => /\((v\d)\)/.exec(t)?.[1] ?? '?'),
      ),
    ),
  );
}

function analyses(f: LocalFleet): Array<Extract<JournalEvent, { t: 'analysis' }>> {
  return readJournal(latestJournal(f.serviceFile)!).filter((e) => e.t === 'analysis');
}

/** about 4 workers x 1 request per 10 ms through the LB: ~100 requests a second, a quarter per backend */
const steadyLoad = (url: string) => startLoad(url, { workers: 4, paceMs: 10, maxMs: 60_000 });

describe('canary analysis (real agents, LBs and Prometheus)', function () {
  this.timeout(180_000);

  it('built-in LB: the flaky build is stopped at the canary with its numbers (exit 4) and rolled back; the rest never touched', async () => {
    const f = await rolloutFleet(
      4,
      { SoakSecs: 8, Analysis: analysis, RollbackOnFailure: true },
      { src: 'web-v2-flaky' },
    );
    try {
      const load = steadyLoad(`${f.proxyUrl}/`);
      const r = await fleet(['rollout', f.serviceFile]);
      await load.stop();
      assert.equal(r.code, 4, r.stdout + r.stderr);
      assert.match(r.stdout, /analysis so far: FAIL; canary \d+ requests, 2\d\.\d % errors/);
      assert.match(
        r.stdout,
        /canary analysis failed: canary error rate 2\d\.\d % \(\d+ of \d+\) is over MaxErrorRate 5\.0 %; baseline 0\.0 %/,
      );
      assert.match(r.stdout, /end state: ESCanaryFailure/);
      const last = analyses(f).at(-1)!;
      assert.equal(last.final, false, 'judged before the soak ended');
      assert.ok(last.canary.requests >= 30 && last.baseline.requests > last.canary.requests);
      assert.deepEqual(await versions(f), ['v1', 'v1', 'v1', 'v1'], 'the canary rolled back, the rest untouched');
      // drained before the rollback restarted it, put back once healthy: the pool is whole when the rollout ends
      // (without the drain the LB routed to the restarting canary, and the pool ended PS_DEGRADED)
      const fin = readJournal(latestJournal(f.serviceFile)!).filter((e) => e.t === 'finalize');
      assert.deepEqual(
        fin.map((e) => e.t === 'finalize' && e.outcome),
        ['rolledBack', 'readded'],
      );
      assert.equal((await f.lbAdapter().poolHealth()).status, 'PS_FULL');
    } finally {
      await f.stop();
    }
  });

  it('built-in LB: a healthy v2 passes its analysis and rolls out; `fleet lb stats` shows the traffic per backend', async () => {
    const f = await rolloutFleet(3, { SoakSecs: 2, Analysis: { ...analysis, MaxLatencyRatio: 5 } });
    try {
      const load = steadyLoad(`${f.proxyUrl}/`);
      const r = await fleet(['rollout', f.serviceFile]);
      const stats = await fleet(['lb', 'stats', '/', '--control', f.config.LB, '--token-file', `${f.dir}/lb-token`]);
      const l = await load.stop();
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /analysis final: PASS; canary \d+ requests, 0\.0 % errors \(0\), p95 [\d.]+ ms/);
      assert.deepEqual(await versions(f), ['v2', 'v2', 'v2']);
      assert.equal(l.non2xx + l.errors, 0, l.failures.join(', '));
      assert.equal(stats.code, 0, stats.stderr);
      for (const b of f.config.Backends)
        assert.match(stats.stdout, new RegExp(`^${(b as { Addr: string }).Addr}\\s+\\d+\\s+\\d+`, 'm'));
      assert.match(stats.stdout, /^backend\s+requests\s+2xx\s+3xx\s+4xx\s+5xx\s+errors\s+error %\s+p50\s+p95\s+p99/m);
    } finally {
      await f.stop();
    }
  });

  it('built-in LB: the slow build fails MaxLatencyRatio against the baseline', async () => {
    const f = await rolloutFleet(
      3,
      { SoakSecs: 4, Analysis: { ...analysis, MaxLatencyRatio: 3 } },
      { src: 'web-v2-slow' },
    );
    try {
      const load = steadyLoad(`${f.proxyUrl}/`);
      const r = await fleet(['rollout', f.serviceFile]);
      await load.stop();
      assert.equal(r.code, 4, r.stdout + r.stderr);
      assert.match(r.stdout, /canary p95 \d+ ms is \d+\.\d\dx the baseline's [\d.]+ ms, over MaxLatencyRatio 3/);
    } finally {
      await f.stop();
    }
  });

  it('no traffic: TooLittleTraffic fail stops at the canary; pass warns and goes on', async () => {
    const f = await rolloutFleet(2, { SoakSecs: 1, Analysis: analysis });
    try {
      const r = await fleet(['rollout', f.serviceFile]);
      assert.equal(r.code, 4, r.stdout + r.stderr);
      assert.match(r.stdout, /only 0 request\(s\) reached the canary during the soak, fewer than MinRequests 30/);
      const svc = JSON.parse(readFileSync(f.serviceFile, 'utf8'));
      writeFileSync(f.serviceFile, JSON.stringify({ ...svc, Analysis: { ...analysis, TooLittleTraffic: 'pass' } }));
      const again = await fleet(['rollout', f.serviceFile]);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.match(again.stdout, /canary analysis passed with a warning: only 0 request/);
    } finally {
      await f.stop();
    }
  });

  it('HAProxy: the flaky build is caught from `show stat` under real load', async () => {
    const f = await rolloutFleet(4, {}, { lb: 'none', src: 'web-v2-flaky' });
    const addrs = f.config.Backends.map((b) => (b as { Addr: string }).Addr);
    const hap = await HaproxyProcess.start(addrs);
    try {
      const svc = JSON.parse(readFileSync(f.serviceFile, 'utf8'));
      writeFileSync(
        f.serviceFile,
        JSON.stringify({
          ...svc,
          LBKind: 'haproxy',
          HAProxySocket: hap.socket,
          HAProxyBackend: 'web',
          SoakSecs: 8,
          Analysis: analysis,
          RollbackOnFailure: true,
        }),
      );
      const lb = new HaproxyLb(hap.socket, 'web');
      await waitFor(async () => assert.equal((await lb.poolHealth()).status, 'PS_FULL'), 30_000);
      const load = steadyLoad(`${hap.url}/`);
      const r = await fleet(['rollout', f.serviceFile]);
      await load.stop();
      assert.equal(r.code, 4, r.stdout + r.stderr);
      assert.match(r.stdout, /canary analysis failed: canary error rate 2\d\.\d % .* over MaxErrorRate 5\.0 %/);
      assert.match(r.stdout, /analysis so far: FAIL; canary \d+ requests, 2\d\.\d % errors \(\d+\), mean [\d.]+ ms/);
      assert.deepEqual(await versions(f), ['v1', 'v1', 'v1', 'v1']);
    } finally {
      await hap.stop();
      await f.stop();
    }
  });

  it('Prometheus: a real Prometheus scraping the LB /metrics judges the flaky canary by a PromQL query', async () => {
    const metrics = `127.0.0.1:${await freePort()}`;
    const f = await rolloutFleet(
      3,
      { SoakSecs: 10, RollbackOnFailure: true },
      { src: 'web-v2-flaky', lbMetrics: metrics },
    );
    const prom = await PrometheusProcess.start([metrics]);
    try {
      await prom.waitForTargets(1);
      const svc = JSON.parse(readFileSync(f.serviceFile, 'utf8'));
      writeFileSync(
        f.serviceFile,
        JSON.stringify({
          ...svc,
          Analysis: {
            // the LB's own counters would catch it too: a huge MaxErrorRate leaves the verdict to Prometheus
            MinRequests: 1,
            MaxErrorRate: 1,
            IntervalSecs: 2,
            Prometheus: {
              URL: prom.url,
              Query:
                'sum(rate(fleet_lb_backend_responses_total{backend="{backend}",code="5xx"}[4s])) / sum(rate(fleet_lb_backend_requests_total{backend="{backend}"}[4s]))',
              Max: 0.05,
            },
          },
        }),
      );
      const load = steadyLoad(`${f.proxyUrl}/`);
      const r = await fleet(['rollout', f.serviceFile]);
      await load.stop();
      assert.equal(r.code, 4, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        /Prometheus: sum\(rate\(fleet_lb_backend_responses_total\{backend="127\.0\.0\.1:\d+",code="5xx"\}.* = 0\.[12]\d*, over Max 0\.05/,
      );
      const p = analyses(f).find((a) => a.verdict === 'fail')!;
      assert.ok(p.prometheus && p.prometheus.value! > 0.05, JSON.stringify(p));
      assert.deepEqual(await versions(f), ['v1', 'v1', 'v1']);
    } finally {
      await prom.stop();
      await f.stop();
    }
  });

  it('MaxUnavailable: never more backends out of the LB than the budget, whatever Concurrency says', async () => {
    const f = await rolloutFleet(4, { MaxUnavailable: 1, Concurrency: 3 });
    try {
      const load = steadyLoad(`${f.proxyUrl}/`);
      const r = await fleet(['rollout', f.serviceFile]);
      const l = await load.stop();
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /at most 1 out of service/);
      // out of the LB: from rmBackend's start to addBackend's done
      let out = 0;
      let peak = 0;
      for (const e of readJournal(latestJournal(f.serviceFile)!)) {
        if (e.t === 'step' && e.step === 'rmBackend' && e.phase === 'start' && e.attempt === 1)
          peak = Math.max(peak, ++out);
        if (e.t === 'step' && e.step === 'addBackend' && e.phase === 'done') out--;
      }
      assert.equal(peak, 1);
      assert.deepEqual(await versions(f), ['v2', 'v2', 'v2', 'v2']);
      assert.equal(l.non2xx + l.errors, 0, l.failures.join(', '));
    } finally {
      await f.stop();
    }
  });

  it('MaxUnavailable: refuses to start when a stopped backend already uses the budget, and explains (exit 3)', async () => {
    const f = await rolloutFleet(3, { MaxUnavailable: 1, Concurrency: 2 });
    try {
      await f.agents[2].client.action('web', 'stop'); // the LB's health check marks it sick
      const lb = f.lbAdapter();
      await waitFor(async () => assert.notEqual((await lb.poolHealth()).status, 'PS_FULL'), 30_000);
      const dry = await fleet(['rollout', f.serviceFile, '--dry-run']);
      assert.match(dry.stdout, /at most 1 of 3 backends out of service at once, counting those already out/);
      const r = await fleet(['rollout', f.serviceFile]);
      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.match(
        r.stdout + r.stderr,
        /1 of 3 backends are already out of service \(127\.0\.0\.1:\d+\), and MaxUnavailable is 1: taking one more out would leave fewer than 2 serving/,
      );
      assert.deepEqual(await versions(f, 2), ['v1', 'v1'], 'nothing was upgraded');
    } finally {
      await f.stop();
    }
  });
});
