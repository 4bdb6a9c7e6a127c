// kill -9 the orchestrator inside each kind of step, then --resume: ESSuccess, no backend left
// drained, nothing installed twice. An agent that dies mid-step. SIGINT pauses, a second aborts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalFleet } from '../../demo/localFleet';
import { latestJournal, readJournal } from '../../core/rollout/journal';
import { cliPath, fleet } from '../harness/cli';
import { httpGet, waitFor } from '../harness/net';
import { spawnTracked } from '../harness/processes';
import { killMatching } from '../harness/agentProcess';
import { rolloutFleet } from '../harness/rolloutFleet';

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** starts `fleet rollout` slowed down inside every step; resolves once `step` has started */
async function rolloutUntil(f: LocalFleet, step: string, backendIndex = 0) {
  const p = spawnTracked(process.execPath, [cliPath, 'rollout', f.serviceFile], {
    env: { ...process.env, FLEET_ROLLOUT_STEP_DELAY_MS: '800' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  p.stderr!.on('data', (b) => (stderr += b));

  const addr = (f.config.Backends[backendIndex] as { Addr: string }).Addr;
  await waitFor(async () => {
    const j = latestJournal(f.serviceFile);
    if (
      !j ||
      !readJournal(j).some((e) => e.t === 'step' && e.step === step && e.phase === 'start' && e.backend === addr)
    )
      throw new Error(`not yet in ${step}`);
  }, 30_000);
  return Object.assign(p, { stderrText: () => stderr });
}

async function assertCleanEnd(f: LocalFleet): Promise<void> {
  const h = await f.lbAdapter().poolHealth();
  assert.equal(h.status, 'PS_FULL');
  assert.equal(h.backends.filter((b) => !b.draining).length, f.config.Backends.length, 'no backend left drained');
  const v1 = sha(join(f.dir, 'dist', 'web-v1.zip'));
  const v2 = sha(join(f.dir, 'dist', 'web-v2.zip'));
  for (const a of f.agents) {
    const s = await a.client.status('web');
    assert.equal(s.sha256, v2);
    assert.equal(s.previous?.sha256, v1, `${a.endpoint}: installed twice (the previous version is not v1)`);
    assert.equal(s.state, 'running');
  }
  for (const b of f.config.Backends) assert.match(await httpGet(`http://${(b as { Addr: string }).Addr}/`), /\(v2\)/);
}

describe('rollout crash safety (real agents, built-in LB)', function () {
  this.timeout(180_000);

  for (const step of ['rmBackend', 'jobKill', 'cp', 'jobStart', 'reachable', 'addBackend']) {
    it(`kill -9 during ${step}, then --resume: ESSuccess, nothing drained, nothing installed twice`, async () => {
      const f = await rolloutFleet(3, { CanaryNum: 1, Concurrency: 2, SoakSecs: 0.2 });
      try {
        const p = await rolloutUntil(f, step);
        process.kill(p.pid!, 'SIGKILL');
        await new Promise((r) => p.once('exit', r));
        const r = await fleet(['rollout', f.serviceFile, '--resume']);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /resuming from the journal/);
        // the resumed run starts exactly at the step that was interrupted
        const first = r.stdout.split('\n').find((l) => / start$/.test(l));
        assert.match(first ?? '', new RegExp(`${step} +start$`));
        await assertCleanEnd(f);
      } finally {
        await f.stop();
      }
    });
  }

  for (const [step, serving] of [
    ['rmBackend', true],
    ['cp', false],
  ] as const) {
    it(`an agent that dies during ${step} fails its backend; the finaliser re-adds it only if it still serves (${serving})`, async () => {
      const f = await rolloutFleet(2, { CanaryNum: 0, MaxFailures: 1, Retries: 0 });
      const victim = (f.config.Backends[1] as { Addr: string }).Addr;
      try {
        const p = await rolloutUntil(f, step, 1);
        process.kill(-f.agents[1].proc.pid!, 'SIGKILL');
        const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
        assert.equal(code, 0, 'failures (1) did not exceed MaxFailures (1)');
        const ev = readJournal(latestJournal(f.serviceFile)!);
        const summary = JSON.stringify(ev.filter((e) => e.t === 'finalize' || e.t === 'backend'));
        assert.ok(
          ev.some((e) => e.t === 'backend' && e.backend === victim && e.result === 'failed'),
          summary,
        );
        const inLb = (await f.lbAdapter().poolHealth()).backends.some((b) => b.backend === victim);
        // before jobKill the old program still runs: healthy, so back in the LB; after it, it is stopped and stays out
        assert.equal(inLb, serving, summary);
        assert.ok(
          ev.some(
            (e) =>
              e.t === 'finalize' &&
              e.backend === victim &&
              (serving
                ? e.outcome === 'readded'
                : e.outcome === 'leftOut' && /GET \/healthz: ECONNREFUSED/.test(e.detail)),
          ),
          summary,
        );
        assert.match(await httpGet(`http://${(f.config.Backends[0] as { Addr: string }).Addr}/`), /\(v2\)/);
      } finally {
        await f.stop();
        killMatching(`node-${victim.split(':')[1]}`); // its agent is gone: end its program here
      }
    });
  }

  it('SIGINT pauses at a safe point (exit 6, resumable); --resume finishes', async () => {
    const f = await rolloutFleet(3, { CanaryNum: 0, Concurrency: 1 });
    try {
      const p = await rolloutUntil(f, 'cp');
      p.kill('SIGINT');
      const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
      assert.equal(code, 6);
      const ev = readJournal(latestJournal(f.serviceFile)!);
      assert.equal(ev.at(-1)?.t, 'paused');
      // the in-flight step finished before the pause: cp is done, nothing started after it
      const last = ev.filter((e) => e.t === 'step').at(-1)!;
      assert.ok(last.t === 'step' && last.step === 'cp' && last.phase === 'done');
      assert.equal(
        (await f.lbAdapter().poolHealth()).backends.length,
        3,
        'the paused backend serves and is back in the LB',
      );
      const r = await fleet(['rollout', f.serviceFile, '--resume']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      await assertCleanEnd(f);
    } finally {
      await f.stop();
    }
  });

  it('a second SIGINT aborts (exit 6, Aborted), leaving no healthy backend out of the LB', async () => {
    const f = await rolloutFleet(3, { CanaryNum: 0, Concurrency: 1 });
    try {
      const p = await rolloutUntil(f, 'jobKill');
      p.kill('SIGINT');
      // the second only once the first was taken (two signals pending at once would be one)
      await waitFor(async () => assert.match(p.stderrText(), /pausing once in-flight steps/), 30_000);
      p.kill('SIGINT');
      const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
      assert.equal(code, 6);
      const ev = readJournal(latestJournal(f.serviceFile)!);
      const end = ev.at(-1);
      assert.ok(end?.t === 'end' && end.state === 'Aborted', JSON.stringify(end));
      await waitFor(async () => assert.equal((await f.lbAdapter().poolHealth()).backends.length, 3));
      assert.ok(existsSync(f.serviceFile));
    } finally {
      await f.stop();
    }
  });
});

/** `fleet ARGS` on a real terminal (util-linux `script` gives it a pty); `type` writes keystrokes to it */
function onTerminal(args: string[], env: NodeJS.ProcessEnv = {}) {
  const cmd = [process.execPath, cliPath, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const p = spawnTracked('script', ['-q', '-e', '-c', `stty cols 120; exec ${cmd}`, '/dev/null'], {
    env: { ...process.env, TERM: 'xterm-256color', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let text = '';
  p.stdout!.on('data', (b) => (text += b));
  p.stderr!.on('data', (b) => (text += b));
  const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  return { text: () => text, type: (keys: string) => p.stdin!.write(keys), exited };
}

describe('fleet rollout on a terminal (a real pty)', function () {
  this.timeout(180_000);

  it('draws a live table in place; Ctrl-C pauses it with a note in the table; --resume finishes in the table', async () => {
    const f = await rolloutFleet(3, { CanaryNum: 1, Concurrency: 1, SoakSecs: 0.2 });
    const addrs = f.config.Backends.map((b) => (b as { Addr: string }).Addr);
    try {
      const t = onTerminal(['rollout', f.serviceFile], { FLEET_ROLLOUT_STEP_DELAY_MS: '800' });
      await waitFor(
        async () => assert.match(t.text(), new RegExp(`▸ ${addrs[0].replace(/\./g, '\\.')} +canary +cp 4/7`)),
        30_000,
      );
      t.type('\x03'); // Ctrl-C, as the terminal delivers it: SIGINT to the foreground process group
      assert.equal(await t.exited, 6, t.text());
      const out = t.text();
      assert.match(out, /Pausing at a safe point… \(Ctrl-C again aborts/, 'the table says it is pausing');
      const esc = String.fromCharCode(27);
      assert.ok(
        out.includes(`${esc}[1A`) || out.includes(`${esc}[2K`),
        'redrawn in place by cursor movement, not appended',
      );
      assert.match(out, /Paused: 0\/3 upgraded/);
      assert.match(out, /paused; continue with: fleet rollout .* --resume/);
      assert.doesNotMatch(out, /findApp +start/, 'no event log on a terminal');

      const r = onTerminal(['rollout', f.serviceFile, '--resume']);
      assert.equal(await r.exited, 0, r.text());
      const last = r.text().split('fleet rollout ').at(-1)!;
      assert.match(last, /Succeeded: 3\/3 upgraded in \d+ s/);
      for (const a of addrs) assert.match(last, new RegExp(`✓ ${a.replace(/\./g, '\\.')} .* in +upgraded`));
      await assertCleanEnd(f);
    } finally {
      await f.stop();
    }
  });
});
