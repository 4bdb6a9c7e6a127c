// examples/ci/deploy.sh run as a CI system runs it: `sh deploy.sh service.json` with `fleet` in PATH
// and GitHub Actions' variables, against a local fleet of real agents behind the built-in LB. It
// succeeds and the agents name the job; it waits for, then gives up on, a rollout a person holds
// (exit 3, the holder named in its events); a retry of a job whose runner died resumes the rollout.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cliPath, scratchHome, testCacheDir } from '../harness/cli';
import { waitFor } from '../harness/net';
import { spawnTracked } from '../harness/processes';
import { rolloutFleet } from '../harness/rolloutFleet';
import { addrs, adopt, cloneServiceFolder, controller, stopFleet } from './teamFleet';

const script = resolve(__dirname, '../../examples/ci/deploy.sh');

/** a runner: its own HOME and work dir, `fleet` in PATH, GitHub's variables for run `runId` */
function runner(runId: string) {
  const work = mkdtempSync(join(tmpdir(), 'runner-'));
  writeFileSync(join(work, 'fleet'), `#!/bin/sh\nexec '${process.execPath}' '${cliPath}' "$@"\n`);
  chmodSync(join(work, 'fleet'), 0o755);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FLEET_CACHE_DIR: testCacheDir,
    HOME: scratchHome(),
    PATH: `${work}:${process.env.PATH}`,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'acme/web',
    GITHUB_RUN_ID: runId,
    GITHUB_ACTOR: 'deploy-bot',
  };
  const deploy = (args: string[], extra: NodeJS.ProcessEnv = {}) => {
    const p = spawnTracked('sh', [script, ...args], {
      cwd: work,
      env: { ...env, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    adopt(p);
    let out = '';
    let err = '';
    p.stdout!.on('data', (b) => (out += b));
    p.stderr!.on('data', (b) => (err += b));
    const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    return {
      proc: p,
      exited,
      out: () => out,
      err: () => err,
      events: () =>
        readFileSync(join(work, 'fleet-rollout.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map(
            (l) => JSON.parse(l) as { t: string; state?: string; lease?: { holder: { pid: number } }; detail?: string },
          ),
    };
  };
  return { work, deploy };
}

describe('examples/ci/deploy.sh in a CI job (sh, real agents, built-in LB)', function () {
  this.timeout(300_000);

  it('rolls out, keeps the events, checks drift, and the agents name the job', async () => {
    const f = await rolloutFleet(2);
    try {
      const d = runner('101').deploy([f.serviceFile]);
      assert.equal(await d.exited, 0, d.out() + d.err());
      assert.match(d.out(), /deploy: rollout succeeded/);
      assert.match(d.out(), /last successful rollout: \S+ .* by github job acme\/web run 101 \(deploy-bot@/);
      const ev = d.events();
      assert.equal(ev[0].t, 'lease');
      assert.deepEqual(ev.at(-1)?.t === 'end' && ev.at(-1)?.state, 'ESSuccess');
      const lease = (await f.agents[0].client.history('web')).entries.find((e) => e.action === 'lease');
      assert.equal(lease?.by?.tool, 'ci');
      assert.deepEqual(lease?.by?.ci, {
        provider: 'github',
        job: 'acme/web run 101',
        url: 'https://github.com/acme/web/actions/runs/101',
      });
    } finally {
      await stopFleet(f);
    }
  });

  it('waits for a rollout a person holds, then gives up with exit 3 and names the holder', async () => {
    const f = await rolloutFleet(2, { LeaseSecs: 60 });
    const hold = join(mkdtempSync(join(tmpdir(), 'hold-')), 'hold');
    writeFileSync(hold, '');
    try {
      const alice = controller(['rollout', f.serviceFile], {
        FLEET_ROLLOUT_STEP_HOLD: hold,
        CI: '',
        GITHUB_ACTIONS: '',
      });
      await waitFor(async () => assert.ok(await f.agents[1].client.lease('web')), 60_000);
      const d = runner('102').deploy([cloneServiceFolder(f)], { FLEET_LEASE_WAIT: '1' });
      assert.equal(await d.exited, 3, d.out() + d.err());
      assert.match(d.err(), /waiting \(--lease-wait 1\): .* is being rolled out by \S+ \(the fleet CLI, pid \d+\)/);
      assert.match(d.err(), /deploy: refused before any change/);
      const held = d.events().find((e) => e.t === 'held');
      assert.equal(held?.lease?.holder.pid, alice.proc.pid);
      rmSync(hold);
      assert.equal(await alice.exited, 0, alice.stderr());
    } finally {
      rmSync(hold, { force: true });
      await stopFleet(f);
    }
  });

  it('a retry of the job on another runner, after the first runner died mid-rollout, resumes it', async () => {
    const f = await rolloutFleet(3, { LeaseSecs: 3, CanaryNum: 1, Concurrency: 1 });
    const [, b1] = addrs(f);
    const hold = join(mkdtempSync(join(tmpdir(), 'hold-')), 'hold');
    writeFileSync(hold, `${b1}\n`);
    try {
      const first = runner('103').deploy([f.serviceFile], { FLEET_ROLLOUT_STEP_HOLD: hold });
      await waitFor(async () => {
        const r = await f.agents[1].client.rolloutRecord('web');
        assert.ok(
          r?.events.some((e) => (e.event as { backend?: string }).backend === b1),
          'b1 not started yet',
        );
      }, 120_000);
      process.kill(-first.proc.pid!, 'SIGKILL'); // the runner dies: the script and its fleet
      await first.exited;
      const retry = runner('103').deploy([cloneServiceFolder(f)]);
      assert.equal(await retry.exited, 0, retry.out() + retry.err());
      assert.match(retry.err(), /resuming rollout \S+ from its agents' records/);
      const ev = retry.events();
      assert.ok(ev.some((e) => e.t === 'resume'));
      assert.match(ev.find((e) => e.t === 'lease')?.detail ?? '', /took over the expired lease/);
      assert.equal(ev.at(-1)?.state, 'ESSuccess');
    } finally {
      rmSync(hold, { force: true });
      await stopFleet(f);
    }
  });
});
