// Rollouts under random faults with real processes: kill -9 the orchestrator, an agent, or a
// backend's program at a random moment, bring back what died, resume. While it runs, never more
// than Concurrency + MaxFailures backends are out of the LB; afterwards every backend is healthy, in
// the LB, on the new version, and no package was installed twice. A short seeded budget in npm test,
// a long one in npm run fuzz (each case is a real fleet: seconds, not milliseconds).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { latestJournal, readJournal } from '../../core/rollout/journal';
import { killMatching, pidsMatching } from '../harness/agentProcess';
import { cliPath, fleet } from '../harness/cli';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';
import { httpGet, waitFor } from '../harness/net';
import { spawnTracked } from '../harness/processes';
import { rolloutFleet } from '../harness/rolloutFleet';

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

type Victim = { kind: 'orchestrator' } | { kind: 'agent'; i: number } | { kind: 'program'; i: number };

describe('rollouts under random faults (real agents, built-in LB)', function () {
  this.timeout(900_000);

  it('kill -9 of the orchestrator, an agent or a program, then resume: a clean end within the out budget', async () => {
    const victim: fc.Arbitrary<Victim> = fc.oneof(
      fc.constant({ kind: 'orchestrator' } as const),
      fc.record({ kind: fc.constant('agent' as const), i: fc.nat(2) }),
      fc.record({ kind: fc.constant('program' as const), i: fc.nat(2) }),
    );
    const scenario = fc.record({
      victim,
      afterMs: fc.integer({ min: 100, max: 5000 }),
      concurrency: fc.integer({ min: 1, max: 2 }),
      canaries: fc.integer({ min: 0, max: 1 }),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const f = await rolloutFleet(3, {
          CanaryNum: s.canaries,
          Concurrency: s.concurrency,
          MaxFailures: 1,
          Retries: 1,
          SoakSecs: 0.3,
        });
        const budget = s.concurrency + 1;
        let maxOut = 0;
        let watching = true;
        const watch = (async () => {
          while (watching) {
            const h = await f
              .lbAdapter()
              .poolHealth()
              .catch(() => null);
            if (h) maxOut = Math.max(maxOut, 3 - h.backends.filter((b) => !b.draining).length);
            await new Promise((r) => setTimeout(r, 50));
          }
        })();
        try {
          const p = spawnTracked(process.execPath, [cliPath, 'rollout', f.serviceFile], {
            env: { ...process.env, FLEET_ROLLOUT_STEP_DELAY_MS: '250' },
          });
          const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
          await Promise.race([exited, new Promise((r) => setTimeout(r, s.afterMs))]);
          const port = (i: number) => (f.config.Backends[i] as { Addr: string }).Addr.split(':')[1];
          if (s.victim.kind === 'orchestrator') p.kill('SIGKILL');
          else if (s.victim.kind === 'agent') {
            const a = f.agents[s.victim.i].proc;
            const gone = new Promise((r) =>
              a.exitCode !== null || a.signalCode !== null ? r(null) : a.once('exit', r),
            );
            process.kill(-a.pid!, 'SIGKILL');
            await gone;
          } else for (const pid of pidsMatching(`node-${port(s.victim.i)}`)) process.kill(pid, 'SIGKILL');
          const code = await exited;
          if (s.victim.kind === 'agent') await f.restartAgent(s.victim.i);
          watching = false;
          await watch;
          assert.ok(maxOut <= budget, `${maxOut} backends were out at once (budget ${budget})`);
          // a failure MaxFailures tolerated ends in ESSuccess too: a person resumes to retry that backend;
          // killed before it wrote its plan, the rollout never began: a person starts it again
          const journal = latestJournal(f.serviceFile);
          const end = journal
            ? readJournal(journal)
                .filter((e) => e.t === 'end')
                .at(-1)
            : undefined;
          if (!journal || code !== 0 || (end?.t === 'end' && end.failures > 0)) {
            const again = await fleet(['rollout', f.serviceFile, ...(journal ? ['--resume'] : [])], {
              env: { FLEET_ROLLOUT_STEP_DELAY_MS: '0' },
            });
            assert.equal(
              again.code,
              0,
              `${journal ? 'resume' : 'new rollout'} after ${JSON.stringify(s)} (first exit ${code}): ${again.stdout.slice(-1500)}${again.stderr}`,
            );
          }
          const v1 = sha(join(f.dir, 'dist', 'web-v1.zip'));
          const v2 = sha(join(f.dir, 'dist', 'web-v2.zip'));
          await waitFor(async () => assert.equal((await f.lbAdapter().poolHealth()).status, 'PS_FULL'), 15_000);
          const h = await f.lbAdapter().poolHealth();
          assert.equal(h.backends.filter((b) => !b.draining).length, 3, 'every backend is in the LB');
          for (const [i, a] of f.agents.entries()) {
            const st = await a.client.status('web');
            assert.equal(st.sha256, v2, `backend ${i} is on v2`);
            assert.equal(st.previous?.sha256, v1, `backend ${i}: installed twice (its previous version is not v1)`);
            await waitFor(
              async () =>
                assert.match(await httpGet(`http://${(f.config.Backends[i] as { Addr: string }).Addr}/`), /\(v2\)/),
              15_000,
            );
          }
        } finally {
          watching = false;
          await watch;
          await f.stop();
          for (let i = 0; i < 3; i++)
            killMatching(`node-${(f.config.Backends[i] as { Addr: string }).Addr.split(':')[1]}`);
        }
      }),
      { seed: fuzzSeed(20261129), numRuns: fuzzRuns(3, 40), endOnFailure: true },
    );
  });
});
