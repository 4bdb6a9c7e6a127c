// fleet history and fleet status after what a team does to a service over a day: a rollout from CI,
// a rollback by hand, a rollout whose canary fails (rolled back), and a rollout that fixes it all.
// Real agents and LB; the CLI as a person and a CI job run it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StatusReport } from '../../core/rollout/fleetStatus';
import type { TimelineEntry } from '../../core/rollout/fleetHistory';
import { fleet, scratchHome } from '../harness/cli';
import { waitFor } from '../harness/net';
import { rolloutFleet } from '../harness/rolloutFleet';
import { addrs, stopFleet } from './teamFleet';

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const github = {
  GITHUB_ACTIONS: 'true',
  GITHUB_RUN_ID: '77',
  GITHUB_REPOSITORY: 'acme/web',
  GITHUB_ACTOR: 'alice',
  GITHUB_SERVER_URL: 'https://github.example',
};
/** a person's terminal: no CI variables */
const person = { GITHUB_ACTIONS: '', GITLAB_CI: '', BUILDKITE: '', CI: '', JENKINS_URL: '', CIRCLECI: '' };

describe('fleet history and fleet status after a mixed day (real agents, built-in LB)', function () {
  this.timeout(300_000);

  it('says which version each backend runs, which rollout or whose hand put it there, and what drifted', async () => {
    const f = await rolloutFleet(3, { RollbackOnFailure: true, Retries: 0 });
    const [b0, b1] = addrs(f);
    const v1 = sha(join(f.dir, 'dist', 'web-v1.zip'));
    const v2 = sha(join(f.dir, 'dist', 'web-v2.zip'));
    const broken = sha(join(f.dir, 'dist', 'web-v2-broken.zip'));
    const home = scratchHome();
    const run = (args: string[], env: NodeJS.ProcessEnv = person) => fleet(args, { home, env });
    const status = async () => {
      const r = await run(['status', f.serviceFile, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout) as StatusReport;
      return { s, b: (addr: string) => s.backends.find((x) => x.addr === addr)! };
    };
    const idOf = (out: string) => /"t":"plan","id":"([^"]+)"/.exec(out)![1];
    try {
      // 1. CI rolls out v2
      const r1 = await run(['rollout', f.serviceFile, '--json'], { ...person, ...github });
      assert.equal(r1.code, 0, r1.stderr);
      const R1 = idOf(r1.stdout);
      let { s, b } = await status();
      assert.equal(s.lastSuccess?.rolloutId, R1);
      assert.equal(s.lastSuccess?.sha256, v2);
      assert.deepEqual(s.lastSuccess?.by?.ci, {
        provider: 'github',
        job: 'acme/web run 77',
        url: 'https://github.example/acme/web/actions/runs/77',
      });
      assert.equal(s.lastSuccess?.by?.user, 'alice');
      for (const a of addrs(f)) {
        assert.deepEqual(b(a).drift, []);
        assert.equal(b(a).putThere?.rolloutId, R1);
      }

      // 2. someone rolls backend 1 back by hand
      const rb = await run([
        'agent',
        'rollback',
        f.agents[1].endpoint,
        'web',
        '--token-file',
        join(f.dir, 'agent-token'),
      ]);
      assert.equal(rb.code, 0, rb.stderr);
      ({ s, b } = await status());
      assert.equal(b(b1).running?.sha256, v1);
      assert.deepEqual(
        b(b1).drift.map((d) => d.kind),
        ['behind', 'manual'],
      );
      assert.match(b(b1).drift[1].detail, /rollback by \S+ \(the fleet CLI, pid \d+\)/);
      assert.deepEqual([b(b1).putThere?.rolloutId, b(b1).putThere?.action], [null, 'rollback']);
      assert.deepEqual(b(b0).drift, []);
      const failOnDrift = await run(['status', f.serviceFile, '--fail-on-drift']);
      assert.equal(failOnDrift.code, 1, failOnDrift.stdout + failOnDrift.stderr);
      assert.match(failOnDrift.stderr, new RegExp(`1 backend\\(s\\) drifted: ${b1.replace(/\./g, '\\.')}`));
      assert.match(failOnDrift.stdout, /behind: runs [0-9a-f]{12}, the last successful rollout/);

      // the program rolled back by hand restarted: the LB sees it healthy again before the next rollout
      // (its health check runs every second; a rollout refuses to start on an unhealthy pool)
      await waitFor(async () => assert.equal((await f.lbAdapter().poolHealth()).status, 'PS_FULL'), 30_000);

      // 3. a broken build: its canary fails and is rolled back
      const r2 = await run(['rollout', f.serviceFile, '--json', '--src', join(f.dir, 'dist', 'web-v2-broken.zip')]);
      assert.equal(r2.code, 4, r2.stdout + r2.stderr);
      const R2 = idOf(r2.stdout);
      ({ s, b } = await status());
      assert.equal(s.lastSuccess?.rolloutId, R1, 'a failed rollout is not the last successful one');
      assert.equal(b(b0).running?.sha256, v2);
      assert.deepEqual([b(b0).putThere?.rolloutId, b(b0).putThere?.action], [R2, 'rollback']);
      assert.deepEqual(b(b0).drift, []);
      assert.deepEqual(
        b(b1).drift.map((d) => d.kind),
        ['behind', 'manual'],
      );

      await waitFor(async () => assert.equal((await f.lbAdapter().poolHealth()).status, 'PS_FULL'), 30_000);
      // 4. a rollout of v2 again puts everything right
      const r3 = await run(['rollout', f.serviceFile, '--json']);
      assert.equal(r3.code, 0, r3.stderr);
      const R3 = idOf(r3.stdout);
      ({ s, b } = await status());
      assert.equal(s.lastSuccess?.rolloutId, R3);
      for (const a of addrs(f)) assert.deepEqual(b(a).drift, [], a);
      assert.equal(b(b1).putThere?.rolloutId, R3);

      // the whole day in one timeline
      const h = await run(['history', f.serviceFile, '--json']);
      assert.equal(h.code, 0, h.stderr);
      const t = h.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as TimelineEntry);
      for (let i = 1; i < t.length; i++) assert.ok(t[i - 1].at <= t[i].at, 'in time order');
      for (const a of f.agents) {
        const seqs = t.filter((e) => e.agent === a.endpoint).map((e) => e.seq);
        assert.deepEqual(
          seqs,
          [...seqs].sort((x, y) => x - y),
          `${a.endpoint}: its own order kept`,
        );
      }
      const on = (addr: string) =>
        t
          .filter((e) => e.backends.includes(addr) && e.action !== 'lease' && e.action !== 'release')
          .map((e) => `${e.action} ${e.outcome} ${e.rolloutId ?? 'hand'} ${e.sha256?.slice(0, 6)}`);
      assert.deepEqual(on(b1), [
        `install ok hand ${v1.slice(0, 6)}`, // the fleet was set up by hand
        `stop ok ${R1} ${v1.slice(0, 6)}`,
        `install ok ${R1} ${v2.slice(0, 6)}`,
        `rollback ok hand ${v1.slice(0, 6)}`,
        `stop ok ${R3} ${v1.slice(0, 6)}`,
        `install ok ${R3} ${v2.slice(0, 6)}`,
      ]);
      assert.deepEqual(on(b0).slice(3), [
        `stop ok ${R2} ${v2.slice(0, 6)}`,
        `install ok ${R2} ${broken.slice(0, 6)}`,
        `rollback ok ${R2} ${v2.slice(0, 6)}`,
      ]);
      const releases = t.filter((e) => e.action === 'release').map((e) => `${e.rolloutId} ${e.outcome}`);
      assert.deepEqual(new Set(releases), new Set([`${R1} ESSuccess`, `${R2} ESCanaryFailure`, `${R3} ESSuccess`]));
      const text = await run(['history', f.serviceFile]);
      assert.match(text.stdout, /rollback +ok +[0-9a-f]{12} +by hand, \S+ \(the fleet CLI, pid \d+\)/);
      assert.match(text.stdout, /github job acme\/web run 77 \(alice@/);
    } finally {
      await stopFleet(f);
    }
  });
});
