// The rollout workflow (Rollout, runBackend, the finaliser) against an in-memory fleet: a table of
// scenarios (canary failure, max failures, pause and abort points, finaliser outcomes) with what
// each must end in. The same workflow runs against real agents and LBs in test/integration/.
import assert from 'node:assert/strict';
import type { LoadedService } from '../../core/rollout/config';
import { latestJournal, readJournal } from '../../core/rollout/journal';
import { describeEvent } from '../../core/rollout/progress';
import { canResume, resumableJournal } from '../../core/rollout/resume';
import { PreconditionError, Rollout, type RolloutResult } from '../../core/rollout/workflow';
import { fakeAddrs, fakeService, FakeFleet, type FakeOp } from './fakeFleet';

const addrs = fakeAddrs;

interface Scenario {
  name: string;
  config?: object;
  /** faults and hooks, before the run */
  setup?: (w: FakeFleet, svc: LoadedService, r: () => Rollout) => void;
  result: RolloutResult | 'precondition';
  /** backends that must end on the new version (all others on the old one) */
  upgraded: string[];
  /** backends that must end out of the LB (unhealthy); every other one must be serving */
  leftOut?: string[];
  /** backends never touched (old version, never drained) */
  untouched?: string[];
}

const [b1, b2, b3, b4, b5] = addrs;
const once = (fn: () => void) => {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
};

const scenarios: Scenario[] = [
  { name: 'every backend healthy: ESSuccess, all on the new version', result: 'ESSuccess', upgraded: addrs },
  {
    name: 'the canary comes up unhealthy: ESCanaryFailure, the rest untouched, the canary left out of the LB',
    setup: (w, svc) => w.badVersions.add(svc.sha256),
    result: 'ESCanaryFailure',
    upgraded: [b1],
    leftOut: [b1],
    untouched: [b2, b3, b4, b5],
  },
  {
    name: 'the canary fails with RollbackOnFailure: the previous version comes back and the finaliser re-adds it',
    config: { RollbackOnFailure: true },
    setup: (w, svc) => w.badVersions.add(svc.sha256),
    result: 'ESCanaryFailure',
    upgraded: [],
    untouched: [b2, b3, b4, b5],
  },
  {
    name: "the canary's agent refuses the install: ESCanaryFailure; the old version still answers, so it goes back in",
    setup: (w) => w.failing.set(b1, new Set<FakeOp>(['install'])),
    result: 'ESCanaryFailure',
    upgraded: [],
    untouched: [b2, b3, b4, b5],
  },
  {
    name: 'two failures with MaxFailures 1: ESMaxFailures, nothing new starts after the second',
    config: { Concurrency: 1 },
    setup: (w) => {
      w.failing.set(b2, new Set<FakeOp>(['install']));
      w.failing.set(b3, new Set<FakeOp>(['install']));
    },
    result: 'ESMaxFailures',
    upgraded: [b1],
    untouched: [b4, b5],
  },
  {
    name: 'one failure within MaxFailures 1: the rollout goes on to ESSuccess',
    setup: (w) => w.failing.set(b3, new Set<FakeOp>(['install'])),
    result: 'ESSuccess',
    upgraded: [b1, b2, b4, b5],
  },
  {
    name: 'a backend missing from the pool: the precondition refuses and nothing changes',
    setup: (w) => w.notInPool.add(b4),
    result: 'precondition',
    upgraded: [],
    untouched: addrs,
  },
  {
    name: 'pause during the canary: Paused after its step; the canary finishes its current step only',
    setup: (w, _svc, r) => (w.onOp = once(() => r().pause())),
    result: 'Paused',
    upgraded: [],
    untouched: [b2, b3, b4, b5],
  },
  {
    name: 'pause in the second batch: in-flight backends finish, no new one starts',
    config: { Concurrency: 1 },
    setup: (w, _svc, r) => (w.onOp = (op, addr) => op === 'install' && addr === b3 && r().pause()),
    result: 'Paused',
    upgraded: [b1, b2, b3],
    untouched: [b4, b5],
  },
  {
    name: 'abort while a backend is drained: Aborted, and the finaliser puts it back (its old version still serves)',
    setup: (w, _svc, r) => (w.onOp = (op, addr) => op === 'lbState' && addr === b2 && r().abort()),
    result: 'Aborted',
    upgraded: [b1],
  },
  {
    name: 'the LB refuses to re-add a backend: the finaliser reports it and leaves it out; the rest is untouched',
    setup: (w) => w.failing.set(b1, new Set<FakeOp>(['ready'])),
    result: 'ESCanaryFailure',
    upgraded: [b1],
    leftOut: [b1],
    untouched: [b2, b3, b4, b5],
  },
];

describe('rollout workflow (fake LB and agents)', () => {
  for (const s of scenarios) {
    it(s.name, async () => {
      const svc = await fakeService(s.config);
      const w = new FakeFleet(addrs);
      const rollout = new Rollout(svc, w.deps(svc));
      s.setup?.(w, svc, () => rollout);
      let result: RolloutResult | 'precondition';
      try {
        result = await rollout.run();
      } catch (e) {
        assert.ok(e instanceof PreconditionError, String(e));
        result = 'precondition';
      }
      assert.equal(result, s.result);
      const c = svc.config;
      assert.ok(
        w.maxOut <= c.Concurrency + c.MaxFailures,
        `at most Concurrency + MaxFailures out at once (was ${w.maxOut})`,
      );
      for (const b of w.backends.values()) {
        if (s.upgraded.includes(b.addr)) assert.equal(b.sha, svc.sha256, `${b.addr} upgraded`);
        else assert.notEqual(b.sha, svc.sha256, `${b.addr} not on the new version`);
        if (s.leftOut?.includes(b.addr)) assert.equal(b.lb, 'out', `${b.addr} left out`);
        else if (w.healthy(b.addr)) assert.equal(b.lb, 'serving', `${b.addr} is healthy, so it is in the LB`);
        if (s.untouched?.includes(b.addr)) assert.equal(b.installs, 0, `${b.addr} untouched`);
        assert.ok(b.installs <= 1, `${b.addr} installed at most once`);
      }
      const events = readJournal(latestJournal(svc.file)!);
      const end = events.at(-1)!;
      if (s.result === 'Paused') assert.equal(end.t, 'paused');
      else
        assert.ok(
          end.t === 'end' && end.state === (s.result === 'precondition' ? 'ESPreconditionFailure' : s.result),
          JSON.stringify(end),
        );
    });
  }

  // found by workflowProperties (seed 20261128, path 39): the resume skipped the reinstall of a rolled-back backend
  it('a backend rolled back after a failure is installed again by the resume, from its first step', async () => {
    const svc = await fakeService(
      { CanaryNum: 0, Concurrency: 1, MaxFailures: 0, RollbackOnFailure: true },
      addrs.slice(0, 2),
    );
    const w = new FakeFleet(addrs.slice(0, 2));
    w.badVersions.add(svc.sha256);
    const first = new Rollout(svc, w.deps(svc));
    assert.equal(await first.run(), 'ESMaxFailures');
    assert.notEqual(w.backends.get(addrs[0])!.sha, svc.sha256, 'rolled back');
    w.badVersions.clear();
    assert.equal(await new Rollout(svc, w.deps(svc), { resumeJournal: first.journal.file }).run(), 'ESSuccess');
    for (const b of w.backends.values()) assert.equal(b.sha, svc.sha256, `${b.addr} is on the new version`);
  });

  // found by rolloutFaults (seed 358809694, path 4: an agent killed mid-rollout): the failure MaxFailures
  // tolerated ended in ESSuccess, and nothing could retry that backend
  it('an ESSuccess with a tolerated failure says so, and a resume retries only the failed backend', async () => {
    const svc = await fakeService({ CanaryNum: 0, Concurrency: 1, MaxFailures: 1 }, addrs.slice(0, 3));
    const w = new FakeFleet(addrs.slice(0, 3));
    w.failing.set(addrs[1], new Set<FakeOp>(['health']));
    const first = new Rollout(svc, w.deps(svc));
    assert.equal(await first.run(), 'ESSuccess');
    const end = readJournal(first.journal.file).at(-1)!;
    assert.ok(end.t === 'end' && end.failures === 1);
    assert.match(describeEvent(end), /ESSuccess with 1 failed backend\(s\) within MaxFailures; --resume retries them/);
    assert.ok(canResume(svc, resumableJournal(svc).progress));
    w.failing.clear();
    assert.equal(await new Rollout(svc, w.deps(svc), { resumeJournal: first.journal.file }).run(), 'ESSuccess');
    for (const b of w.backends.values()) {
      assert.equal(b.sha, svc.sha256, `${b.addr} upgraded`);
      assert.equal(b.installs, 1, `${b.addr} installed once`);
    }
  });

  it('a paused rollout resumes from its journal to ESSuccess, installing nothing twice', async () => {
    const svc = await fakeService({ Concurrency: 1 });
    const w = new FakeFleet(addrs);
    const first = new Rollout(svc, w.deps(svc));
    w.onOp = (op, addr) => op === 'install' && addr === b3 && first.pause();
    assert.equal(await first.run(), 'Paused');
    w.onOp = undefined;
    const second = new Rollout(svc, w.deps(svc), { resumeJournal: first.journal.file });
    assert.equal(await second.run(), 'ESSuccess');
    for (const b of w.backends.values()) {
      assert.equal(b.sha, svc.sha256);
      assert.equal(b.installs, 1, `${b.addr} installed once`);
      assert.equal(b.lb, 'serving');
    }
  });
});
