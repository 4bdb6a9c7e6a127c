// The rollout workflow under random configurations, faults, pauses and aborts, then a resume with
// the faults gone (fake LB and agents, so hundreds of cases run in seconds): afterwards every backend
// that answers its health check is in the LB, never more than Concurrency + MaxFailures backends
// were out at once, no package was installed twice, and the resumed rollout succeeds.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PreconditionError, Rollout } from '../../core/rollout/workflow';
import { fuzzRuns, fuzzSeed } from '../harness/fuzz';
import { fakeService, FakeFleet, type FakeOp } from './fakeFleet';

// an LB that refuses to take a backend back (`ready` failing) leaves it out by force: the finaliser
// reports it, and the table-driven tests cover it; here every fault is of an agent or a backend
const faultOps: FakeOp[] = ['install', 'start', 'stop', 'drain', 'health', 'status'];

describe('rollout workflow properties (fake LB and agents)', () => {
  it('faults, pauses and aborts never leave a healthy backend out, never exceed the out budget, never install twice', async () => {
    const scenario = fc.record({
      n: fc.integer({ min: 1, max: 6 }),
      canaries: fc.integer({ min: 0, max: 2 }),
      concurrency: fc.integer({ min: 1, max: 3 }),
      maxFailures: fc.integer({ min: 0, max: 2 }),
      rollback: fc.boolean(),
      badVersion: fc.boolean(),
      faults: fc.array(fc.record({ backend: fc.nat(5), op: fc.constantFrom(...faultOps) }), { maxLength: 4 }),
      stop: fc.option(
        fc.record({ at: fc.nat(40), how: fc.constantFrom('pause', 'abort') as fc.Arbitrary<'pause' | 'abort'> }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const addrs = Array.from({ length: s.n }, (_, i) => `10.0.0.${i + 1}:80`);
        const svc = await fakeService(
          {
            CanaryNum: Math.min(s.canaries, s.n),
            Concurrency: s.concurrency,
            MaxFailures: s.maxFailures,
            RollbackOnFailure: s.rollback,
          },
          addrs,
        );
        const w = new FakeFleet(addrs);
        if (s.badVersion) w.badVersions.add(svc.sha256);
        for (const f of s.faults)
          if (f.backend < s.n)
            (w.failing.get(addrs[f.backend]) ?? w.failing.set(addrs[f.backend], new Set()).get(addrs[f.backend])!).add(
              f.op,
            );
        const first = new Rollout(svc, w.deps(svc));
        let ops = 0;
        w.onOp = () => {
          if (s.stop && ops++ === s.stop.at) first[s.stop.how]();
        };
        let result: string;
        try {
          result = await first.run();
        } catch (e) {
          assert.ok(e instanceof PreconditionError, String(e));
          result = 'precondition';
        }
        const budget = s.concurrency + s.maxFailures;
        assert.ok(w.maxOut <= budget, `${w.maxOut} backends out at once, budget ${budget} (${result})`);
        for (const b of w.backends.values()) {
          if (w.healthy(b.addr))
            assert.equal(b.lb, 'serving', `${b.addr} answers its health check but is ${b.lb} (${result})`);
          assert.ok(
            b.installs <= 1 + b.rollbacks,
            `${b.addr} installed ${b.installs} times, rolled back ${b.rollbacks}`,
          );
        }
        // the faults are fixed; a person resumes (or, after a refused precondition, starts again)
        w.failing.clear();
        w.badVersions.clear();
        w.onOp = undefined;
        if (result === 'ESSuccess') return;
        // a backend left out (unhealthy when the rollout stopped) is now healthy: the precondition wants the pool whole
        for (const b of w.backends.values()) if (b.lb !== 'serving' && b.sha !== svc.sha256) b.lb = 'serving';
        const second = new Rollout(
          svc,
          w.deps(svc),
          result === 'precondition' ? {} : { resumeJournal: first.journal.file },
        );
        assert.equal(await second.run(), 'ESSuccess');
        for (const b of w.backends.values()) {
          assert.equal(b.sha, svc.sha256, `${b.addr} upgraded after the resume`);
          assert.equal(b.lb, 'serving');
          assert.ok(
            b.installs <= 1 + b.rollbacks,
            `${b.addr} installed ${b.installs} times, rolled back ${b.rollbacks}`,
          );
        }
      }),
      { seed: fuzzSeed(20261128), numRuns: fuzzRuns(30, 3000), endOnFailure: true },
    );
  });
});
