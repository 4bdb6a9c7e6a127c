// Rollouts end to end: real agents, the built-in LB and HAProxy, the sample web app v1 -> v2.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import type { LocalFleet } from '../../demo/localFleet';
import { HaproxyLb } from '../../core/lb/haproxy';
import { latestJournal, readJournal } from '../../core/rollout/journal';
import { fleet } from '../harness/cli';
import { startLoad } from '../harness/load';
import { httpGet, waitFor } from '../harness/net';
import { rolloutFleet } from '../harness/rolloutFleet';
import { HaproxyProcess } from '../harness/webApps';

async function versions(f: LocalFleet): Promise<string[]> {
  return Promise.all(
    f.config.Backends.map((b) =>
      httpGet(`http://${typeof b === 'string' ? b : b.Addr}/`).then((t) => /\((v\d)\)/.exec(t)?.[1] ?? '?'),
    ),
  );
}

function journalEvents(f: LocalFleet) {
  return readJournal(latestJournal(f.serviceFile)!);
}

describe('fleet rollout (real agents and LBs)', function () {
  this.timeout(180_000);

  it('rolls v2 out behind the built-in LB with no failed request: ESSuccess, exit 0', async () => {
    const f = await rolloutFleet(6);
    try {
      const load = startLoad(`${f.proxyUrl}/`, { workers: 4, maxMs: 60_000 });
      const r = await fleet(['rollout', f.serviceFile]);
      const l = await load.stop();
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /end state: ESSuccess/);
      assert.deepEqual(await versions(f), Array(6).fill('v2'));
      assert.equal(l.non2xx + l.errors, 0, `failed requests during the rollout: ${l.failures}`);
      assert.ok(l.ok > 50);
      const h = await f.lbAdapter().poolHealth();
      assert.equal(h.status, 'PS_FULL');
      assert.equal(h.backends.length, 6);
      // canary first, alone; then never more than Concurrency (2) backends between findApp and done
      const ev = journalEvents(f);
      let inFlight = 0;
      let peak = 0;
      for (const e of ev) {
        if (e.t === 'step' && e.step === 'findApp' && e.phase === 'start' && e.attempt === 1)
          peak = Math.max(peak, ++inFlight);
        if (e.t === 'backend') inFlight--;
      }
      assert.equal(peak, 2);
      const firstRest = ev.findIndex(
        (e) =>
          e.t === 'step' &&
          e.backend !== f.config.Backends[0].toString() &&
          e.backend !== (f.config.Backends[0] as { Addr: string }).Addr,
      );
      const soakDone = ev.findIndex((e) => e.t === 'soak' && e.phase === 'done');
      assert.ok(soakDone >= 0 && soakDone < firstRest, 'the canary and its soak come before any other backend');
    } finally {
      await f.stop();
    }
  });

  it('rolls v2 out behind HAProxy with no failed request', async () => {
    const f = await rolloutFleet(4, {}, { lb: 'none' });
    const addrs = f.config.Backends.map((b) => (b as { Addr: string }).Addr);
    const hap = await HaproxyProcess.start(addrs);
    try {
      const svc = JSON.parse(readFileSync(f.serviceFile, 'utf8'));
      writeFileSync(
        f.serviceFile,
        JSON.stringify({ ...svc, LBKind: 'haproxy', HAProxySocket: hap.socket, HAProxyBackend: 'web' }),
      );
      const lb = new HaproxyLb(hap.socket, 'web');
      await waitFor(async () => assert.equal((await lb.poolHealth()).status, 'PS_FULL'), 30_000);
      const load = startLoad(`${hap.url}/`, { workers: 4, maxMs: 60_000 });
      const r = await fleet(['rollout', f.serviceFile]);
      const l = await load.stop();
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(await versions(f), Array(4).fill('v2'));
      assert.equal(l.non2xx + l.errors, 0, `failed requests during the rollout: ${l.failures}`);
      const h = await lb.poolHealth();
      assert.equal(h.status, 'PS_FULL');
      assert.equal(h.backends.length, 4);
    } finally {
      await hap.stop();
      await f.stop();
    }
  });

  it('stops at a broken canary (ESCanaryFailure, exit 4); with rollback the canary serves v1 again in the LB, the others untouched', async () => {
    const f = await rolloutFleet(4, { RollbackOnFailure: true, Health: { TimeoutSecs: 2 } }, { src: 'web-v2-broken' });
    try {
      const r = await fleet(['rollout', f.serviceFile]);
      assert.equal(r.code, 4, r.stdout + r.stderr);
      assert.match(r.stdout, /end state: ESCanaryFailure/);
      assert.match(r.stdout, /did not become healthy within 2s: GET \/healthz answered HTTP 500/);
      assert.deepEqual(await versions(f), ['v1', 'v1', 'v1', 'v1']);
      const h = await f.lbAdapter().poolHealth();
      assert.equal(h.status, 'PS_FULL');
      assert.equal(h.backends.length, 4, 'the rolled-back canary is back in the LB');
      const touched = new Set(
        journalEvents(f)
          .filter((e) => e.t === 'step')
          .map((e) => (e as { backend: string }).backend),
      );
      assert.deepEqual([...touched], [(f.config.Backends[0] as { Addr: string }).Addr]);
    } finally {
      await f.stop();
    }
  });

  it('ends with ESMaxFailures (exit 5) and starts no backend after failures exceed MaxFailures', async () => {
    const f = await rolloutFleet(
      5,
      { CanaryNum: 0, Concurrency: 1, MaxFailures: 1, RollbackOnFailure: true, Retries: 0, Health: { TimeoutSecs: 2 } },
      { src: 'web-v2-broken' },
    );
    try {
      const r = await fleet(['rollout', f.serviceFile]);
      assert.equal(r.code, 5, r.stdout + r.stderr);
      const started = new Set(
        journalEvents(f)
          .filter((e) => e.t === 'step')
          .map((e) => (e as { backend: string }).backend),
      );
      assert.equal(started.size, 2, `backends started: ${[...started]}`);
      assert.equal((await f.lbAdapter().poolHealth()).backends.length, 5, 'every backend is back in the LB');
    } finally {
      await f.stop();
    }
  });

  it('changes nothing when the precondition fails (a backend missing from the pool): exit 3', async () => {
    const f = await rolloutFleet(3);
    try {
      const missing = (f.config.Backends[2] as { Addr: string }).Addr;
      await f.lbAdapter().drain(missing);
      const before = await Promise.all(f.agents.map((a) => a.client.status('web')));
      const r = await fleet(['rollout', f.serviceFile]);
      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.match(
        r.stderr + r.stdout,
        new RegExp(
          `precondition failed: backends missing from the pool: ${missing.replace(/\./g, '\\.')}; nothing was changed`,
        ),
      );
      const after = await Promise.all(f.agents.map((a) => a.client.status('web')));
      assert.deepEqual(
        after.map((s) => s.version),
        before.map((s) => s.version),
      );
      assert.ok(
        !(await f.lbAdapter().poolHealth()).backends.some((b) => b.backend === missing),
        'the removed backend stays removed',
      );
    } finally {
      await f.stop();
    }
  });

  it('counts an agent unreachable from the start as a failure, leaves that backend serving, upgrades the rest', async () => {
    const f = await rolloutFleet(3, { CanaryNum: 0, MaxFailures: 1 });
    try {
      const svc = JSON.parse(readFileSync(f.serviceFile, 'utf8'));
      svc.Backends[1].Agent = 'http://127.0.0.1:9'; // nothing listens there
      writeFileSync(f.serviceFile, JSON.stringify(svc));
      const r = await fleet(['rollout', f.serviceFile]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        /127\.0\.0\.1:\d+ +FAILED: findApp: host http:\/\/127\.0\.0\.1:9: cannot reach the agent: ECONNREFUSED/,
      );
      assert.deepEqual(await versions(f), ['v2', 'v1', 'v2']);
      assert.equal((await f.lbAdapter().poolHealth()).status, 'PS_FULL');
    } finally {
      await f.stop();
    }
  });

  it('prints the plan with --dry-run and changes nothing', async () => {
    const f = await rolloutFleet(5, { Concurrency: 2, CanaryNum: 1 });
    try {
      const r = await fleet(['rollout', f.serviceFile, '--dry-run']);
      assert.equal(r.code, 0, r.stderr);
      const a = f.config.Backends.map((b) => (b as { Addr: string }).Addr);
      assert.match(r.stdout, new RegExp(`canaries \\(one at a time, 0\\.5s soak after each\\): ${a[0]}`));
      assert.match(r.stdout, new RegExp(`batch 1: ${a[1]}, ${a[2]}\nbatch 2: ${a[3]}, ${a[4]}`));
      assert.deepEqual(await versions(f), Array(5).fill('v1'));
      assert.equal(latestJournal(f.serviceFile), undefined);
    } finally {
      await f.stop();
    }
  });
});
