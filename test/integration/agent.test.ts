// The agent as a real process: installs, upgrades, rollback, supervision, crash safety.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../core/agentClient/client';
import { buildExamples } from '../../examples/build';
import { AgentProcess, killMatching, pidsMatching } from '../harness/agentProcess';
import { freePort, httpGet, waitFor } from '../harness/net';
import { rawZip } from '../harness/rawZip';

describe('agent: install, upgrade, rollback (real agent process)', function () {
  this.timeout(60_000);
  let zips: Record<string, string>;
  let agent: AgentProcess;
  let port: number;
  const tag = `web-test-${process.pid}`;

  before(async () => {
    zips = await buildExamples(mkdtempSync(join(tmpdir(), 'zips-')));
    agent = await AgentProcess.start();
    port = await freePort();
  });
  after(async () => {
    await agent?.stop();
    killMatching(tag);
  });

  it('installs web v1: running, and its port answers', async () => {
    const s = await agent
      .client()
      .install('web', zips['web-v1'], { binary: 'web', args: ['--port', String(port), '--node', tag] });
    assert.equal(s.state, 'running');
    assert.ok(s.pid && s.pid > 1);
    const body = await waitFor(() => httpGet(`http://127.0.0.1:${port}/`));
    assert.match(body, new RegExp(`Hello web from node ${tag} \\(v1\\)`));
  });

  it('reinstalls v2: v2 answers, v1 is stopped, v1 is kept as previous', async () => {
    const before = await agent.client().status('web');
    const s = await agent
      .client()
      .install('web', zips['web-v2'], { binary: 'web', args: ['--port', String(port), '--node', tag] });
    assert.notEqual(s.pid, before.pid);
    assert.equal(s.previous?.id, before.version);
    assert.match(await waitFor(() => httpGet(`http://127.0.0.1:${port}/`)), /replaced node .* \(v2\)/);
    assert.equal(existsSync(`/proc/${before.pid}`), false, 'v1 still runs');
    assert.equal(pidsMatching(tag).length, 1);
  });

  it('rolls back to v1', async () => {
    const s = await agent.client().action('web', 'rollback');
    assert.match(await waitFor(() => httpGet(`http://127.0.0.1:${port}/`)), /\(v1\)/);
    assert.equal(pidsMatching(tag).length, 1);
    assert.ok(s.previous, 'v2 is now the previous version');
  });

  it('stops, starts, restarts, shows logs, removes', async () => {
    const c = agent.client();
    assert.equal((await c.action('web', 'stop')).state, 'stopped');
    assert.equal(pidsMatching(tag).length, 0);
    assert.equal((await c.action('web', 'start')).state, 'running');
    const r = await c.action('web', 'restart');
    assert.equal(r.state, 'running');
    await waitFor(() => httpGet(`http://127.0.0.1:${port}/healthz`));
    assert.match(await c.logs('web', 5), /web v1 node .* listening/);
    await c.remove('web');
    await assert.rejects(
      c.status('web'),
      (e: AgentError) => e.status === 404 && /no package named web/.test(e.message),
    );
    assert.equal(pidsMatching(tag).length, 0);
    assert.deepEqual(readdirSync(join(agent.dataDir, 'packages')), []);
  });

  it('serves /debug/vars in the seed shape and /metrics as Prometheus text', async () => {
    const v = await agent.client().stats();
    assert.equal(v['system-cpu']!.ResolutionSecs, 10);
    assert.ok(v['system-cpu']!.CPU.some((c) => c.ID === 'cpu-total'));
    for (const k of ['ID', 'User', 'System', 'Idle', 'IOWait', 'IRQ']) assert.ok(k in v['system-cpu']!.CPU[0]);
    assert.ok(v['system-mem']!.Total > 0 && v['system-mem']!.Avail > 0);
    const m = await agent.client().metrics();
    // node_exporter's names, so dashboards written for it work
    assert.match(m, /^# TYPE node_memory_MemTotal_bytes gauge$/m);
    assert.match(m, /^node_memory_MemAvailable_bytes \d+$/m);
    assert.match(m, /^node_cpu_seconds_total\{cpu="0",mode="idle"\} [\d.]+$/m);
    assert.match(m, /^node_load1 [\d.]+$/m);
    assert.match(m, /^fleet_agent_info\{version="[^"]+",build="[0-9a-f]+",node="v\d+[^"]*"\} 1$/m);
    assert.match(m, /^fleet_host_cpu_busy_percent\{cpu="cpu-total"\} [\d.]+$/m);
  });

  it('accepts the seed route POST /api/v1.0.0/install', async () => {
    const qport = await freePort();
    const body = JSON.stringify({
      Name: 'qotd',
      Package: readFileSync(zips.qotd).toString('base64'),
      Binary: 'qotd',
      Args: ['--port', String(qport), '--tag', tag],
    });
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          socketPath: agent.socket,
          path: '/api/v1.0.0/install',
          method: 'POST',
          headers: { host: 'localhost', 'content-type': 'application/json' },
        },
        (r) => {
          let b = '';
          r.on('data', (d) => (b += d));
          r.on('end', () => resolve({ status: r.statusCode!, body: b }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(res.status, 200, res.body);
    assert.equal((await agent.client().status('qotd')).state, 'running');
    await agent.client().remove('qotd');
  });
});

describe('agent: supervision and crash safety', function () {
  this.timeout(120_000);
  let zips: Record<string, string>;
  const tag = `web-crash-${process.pid}`;
  before(async () => {
    zips = await buildExamples(mkdtempSync(join(tmpdir(), 'zips-')));
  });
  after(() => killMatching(tag));

  it('adopts running programs after kill -9 of the agent: same pids, no duplicates', async () => {
    const agent = await AgentProcess.start();
    try {
      const ports = [await freePort(), await freePort()];
      for (const [i, p] of ports.entries())
        await agent
          .client()
          .install(`w${i}`, zips['web-v1'], { binary: 'web', args: ['--port', String(p), '--node', `${tag}-${i}`] });
      const pids = (await agent.client().list()).map((s) => s.pid);
      await agent.kill9();
      await agent.start();
      const after = await agent.client().list();
      assert.deepEqual(
        after.map((s) => s.pid),
        pids,
      );
      assert.ok(after.every((s) => s.state === 'running'));
      assert.match(agent.log, /w0: adopted running pid/);
      for (const i of [0, 1]) assert.equal(pidsMatching(`${tag}-${i}`).length, 1);
      // the adopted program is still supervised: stop reaches it
      await agent.client().action('w0', 'stop');
      assert.equal(pidsMatching(`${tag}-0`).length, 0);
    } finally {
      await agent.stop();
      killMatching(tag);
    }
  });

  it('restarts a program that exits at once with growing backoff, then gives up (crashed)', async () => {
    const agent = await AgentProcess.start({ flags: ['--restart-backoff-ms', '100', '--max-restarts', '4'] });
    try {
      const zip = join(mkdtempSync(join(tmpdir(), 'z-')), 'crash.zip');
      writeFileSync(
        zip,
        rawZip([{ name: 'crash', data: Buffer.from('#!/bin/sh\ndate +%s%N\nexit 3\n'), mode: 0o100755 }]),
      );
      await agent.client().install('crash', zip, { binary: 'crash', args: [] });
      const seen = new Set<string>();
      const final = await waitFor(async () => {
        const s = await agent.client().status('crash');
        seen.add(s.state);
        if (s.state !== 'crashed') throw new Error(`still ${s.state}`);
        return s;
      }, 20_000);
      assert.ok(seen.has('backoff'), `states seen: ${[...seen]}`);
      assert.equal(final.restarts, 4, 'restarts are bounded by --max-restarts');
      assert.equal(final.lastExit?.code, 3);
      const starts = (await agent.client().logs('crash', 10))
        .trim()
        .split('\n')
        .map((l) => Number(BigInt(l) / 1_000_000n));
      assert.equal(starts.length, 5, 'the first start and 4 restarts');
      const gaps = starts.slice(1).map((t, i) => t - starts[i]);
      for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i] > gaps[i - 1], `backoff does not grow: ${gaps}`);
    } finally {
      await agent.stop();
    }
  });

  it('kill -9 during an install leaves the old or the new version complete and running', async () => {
    const port = await freePort();
    const agent = await AgentProcess.start();
    try {
      // a package big enough that the install takes a while: the web app plus 300 files of 100 kB
      const padding = Array.from({ length: 300 }, (_, i) => ({
        name: `data/${i}.bin`,
        data: Buffer.alloc(100_000, i),
        mode: 0o100644,
      }));
      const web = readFileSync(join(__dirname, '../../examples/web/web.js'));
      const mk = (v: string) => {
        const f = join(mkdtempSync(join(tmpdir(), 'z-')), `${v}.zip`);
        writeFileSync(
          f,
          rawZip([
            { name: 'web', data: web, mode: 0o100755 },
            { name: 'build.json', data: Buffer.from(JSON.stringify({ version: v })) },
            ...padding,
          ]),
        );
        return f;
      };
      const [v1, v2] = [mk('v1'), mk('v2')];
      const args = ['--port', String(port), '--node', tag];
      await agent.client().install('big', v1, { binary: 'web', args });
      for (const delayMs of [5, 40, 120, 250, 600]) {
        const install = agent
          .client()
          .install('big', v2, { binary: 'web', args })
          .catch(() => undefined);
        await new Promise((r) => setTimeout(r, delayMs));
        await agent.kill9();
        await install;
        await agent.start();
        const s = await agent.client().status('big');
        assert.equal(s.state, 'running', `after kill at ${delayMs} ms`);
        const dir = join(agent.dataDir, 'packages', 'big', s.version);
        assert.equal(
          readdirSync(join(dir, 'data')).length,
          300,
          `version ${s.version} is incomplete after kill at ${delayMs} ms`,
        );
        const build = JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')).version;
        const answer = await waitFor(() => httpGet(`http://127.0.0.1:${port}/`));
        assert.ok(answer.includes(`(${build})`), `running ${answer.trim()} but state says ${build}`);
        assert.equal(pidsMatching(tag).length, 1, `duplicates after kill at ${delayMs} ms`);
        assert.deepEqual(readdirSync(join(agent.dataDir, 'staging')), []);
        // back to v1 for the next round
        if (build === 'v2') await agent.client().install('big', v1, { binary: 'web', args });
      }
    } finally {
      await agent.stop();
      killMatching(tag);
    }
  });
});

describe('agent: a token file shared by agents that start together', function () {
  this.timeout(30_000);
  it('all of them start and use the same token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tok-'));
    const tokenFile = join(dir, 'token');
    const agents = await Promise.all(
      Array.from({ length: 6 }, async () =>
        AgentProcess.start({ listen: `127.0.0.1:${await freePort()}`, flags: ['--token-file', tokenFile] }),
      ),
    );
    try {
      const token = readFileSync(tokenFile, 'utf8').trim();
      assert.ok(token.length >= 32);
      assert.deepEqual(readdirSync(dir), ['token'], 'no temporary file left');
    } finally {
      await Promise.all(agents.map((a) => a.stop()));
    }
  });
});
