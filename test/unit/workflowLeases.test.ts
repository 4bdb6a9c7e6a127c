// The workflow with the agents' leases and records, against the in-memory fleet (fakeFleet.ts) whose
// agents keep leases and rollout records in the agent's own stores (agent/leases.ts,
// agent/rolloutRecords.ts): the lease is taken before anything changes and given back with the end
// state; a held rollout is refused before any change and leaves no journal; a rollout whose lease
// another controller broke stops at once, touching nothing more (no finaliser).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HttpError } from '../../agent/httpError';
import { LeaseStore } from '../../agent/leases';
import { RolloutRecords } from '../../agent/rolloutRecords';
import { LeaseHeldError, LeaseLostError, type AgentClient } from '../../core/agentClient/client';
import type { LeaseRequest, RolloutEvents } from '../../core/protocol/agentRecords';
import type { LoadedService } from '../../core/rollout/config';
import { readJournal } from '../../core/rollout/journal';
import { UnreachableError } from '../../core/errors';
import { deadHolderHere, RolloutHeldError } from '../../core/rollout/leases';
import { Rollout, type RolloutDeps } from '../../core/rollout/workflow';
import { FakeFleet, fakeAddrs, fakeService } from './fakeFleet';

const actor = { user: 'tester', machine: 'unit', tool: 'cli' as const, pid: 1 };

/** the fake fleet's agents, each with a lease store and a rollout record of its own */
function withLeases(fleet: FakeFleet, svc: LoadedService) {
  const stores = new Map<string, { leases: LeaseStore; records: RolloutRecords }>();
  for (const a of fakeAddrs) {
    const dir = mkdtempSync(join(tmpdir(), 'fake-agent-'));
    stores.set(a, {
      leases: new LeaseStore(join(dir, 'leases.json')),
      records: new RolloutRecords(join(dir, 'rollouts')),
    });
  }
  const typed = async <T>(ep: string, fn: () => T): Promise<T> => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof HttpError && e.status === 423) throw new LeaseHeldError(ep, e.extra);
      if (e instanceof HttpError && e.status === 409) throw new LeaseLostError(ep, e.extra);
      throw e;
    }
  };
  const deps: RolloutDeps = {
    ...fleet.deps(svc),
    agentRecords: true,
    agentFor: (b) => {
      const base = fleet.agent(b.addr, svc.packageName) as unknown as Record<string, unknown>;
      const s = stores.get(b.addr)!;
      return Object.assign(base, {
        useLease: () => undefined,
        takeLease: (n: string, r: LeaseRequest) => typed(b.addr, () => s.leases.take(n, r)),
        renewLease: (n: string, id: string) => typed(b.addr, () => s.leases.renew(n, id)),
        releaseLease: (n: string, id: string) => typed(b.addr, () => void s.leases.release(n, id)),
        recordEvents: (n: string, id: string, body: RolloutEvents) =>
          typed(b.addr, () => {
            if (s.leases.get(n)?.leaseId !== id) throw new HttpError(409, 'not yours', {});
            s.records.append(n, body);
          }),
        rolloutRecord: async (n: string) => s.records.read(n),
        lease: async (n: string) => s.leases.view(n),
      }) as unknown as AgentClient;
    },
  };
  return { deps, stores };
}

describe('rollout workflow with leases on its agents (in-memory fleet, the agent stores)', () => {
  it('takes the lease everywhere before any change, records each backend on its agent, gives it back with the end state', async () => {
    const svc = await fakeService();
    const fleet = new FakeFleet(fakeAddrs);
    const { deps, stores } = withLeases(fleet, svc);
    let opsBeforeLease = 0;
    const ttls = new Set<number>();
    fleet.onOp = () => {
      const l = stores.get(fakeAddrs[0])!.leases.view(svc.packageName);
      if (!l) opsBeforeLease++;
      else ttls.add(l.ttlSecs);
    };
    const r = new Rollout(svc, deps, { actor });
    assert.equal(await r.run(), 'ESSuccess');
    assert.equal(opsBeforeLease, 0, 'nothing touched before the lease was held');
    // the default: two minutes after the last renewal (README: three renewals may fail before it lapses)
    assert.equal(svc.config.LeaseSecs, 120);
    assert.deepEqual([...ttls], [120]);
    for (const a of fakeAddrs) {
      assert.equal(stores.get(a)!.leases.get(svc.packageName), null, 'given back');
      const rec = stores.get(a)!.records.read(svc.packageName)!;
      assert.equal(rec.rolloutId, r.id);
      const mine = rec.events.map((e) => e.event as { t: string; backend?: string });
      assert.ok(mine.some((e) => e.t === 'step' && e.backend === a));
      assert.ok(
        mine.every((e) => e.backend === undefined || e.backend === a),
        `${a} holds only its own backend's events`,
      );
      assert.equal(mine.at(-1)?.t, 'end');
    }
  });

  it('refuses a rollout another controller holds before any change, naming it, and leaves no journal', async () => {
    const svc = await fakeService();
    const fleet = new FakeFleet(fakeAddrs);
    const { deps, stores } = withLeases(fleet, svc);
    stores.get(fakeAddrs[2])!.leases.take(svc.packageName, {
      leaseId: 'f'.repeat(32),
      holder: { user: 'bob', machine: 'ci-7', tool: 'ci', pid: 9, ci: { provider: 'gitlab', job: 'web job 5' } },
      rolloutId: 'other',
      service: { path: '/elsewhere/service.json', sha256: svc.serviceSha256 },
      sha256: svc.sha256,
      ttlSecs: 60,
    });
    let changes = 0;
    fleet.onOp = (op) => void (op !== 'health' && op !== 'status' && op !== 'lbState' && changes++);
    const r = new Rollout(svc, deps, { actor });
    await assert.rejects(
      r.run(),
      (e: unknown) => e instanceof RolloutHeldError && /gitlab job web job 5 \(bob@ci-7, pid 9\)/.test(e.message),
    );
    assert.equal(changes, 0);
    const dir = dirname(r.journal.file);
    assert.deepEqual(existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.jsonl')) : [], []);
    for (const a of fakeAddrs.slice(0, 2))
      assert.equal(stores.get(a)!.leases.get(svc.packageName), null, 'what it took, it gave back');
  });

  it('a rollout whose lease another controller broke stops at once: Aborted, no finaliser, nothing more changed', async () => {
    const svc = await fakeService({ LeaseSecs: 2, CanaryNum: 0, Concurrency: 1 });
    const fleet = new FakeFleet(fakeAddrs);
    const { deps, stores } = withLeases(fleet, svc);
    let installs = 0;
    let broken = false;
    fleet.onOp = (op) => {
      if (op !== 'install') return;
      installs++;
      if (!broken) {
        broken = true;
        for (const s of stores.values()) s.leases.release(svc.packageName, undefined);
      }
    };
    const r = new Rollout(svc, deps, { actor, stepDelayMs: 300 });
    assert.equal(await r.run(), 'Aborted');
    const ev = readJournal(r.journal.file);
    assert.ok(
      ev.some((e) => e.t === 'lease' && e.phase === 'lost'),
      JSON.stringify(ev.filter((e) => e.t === 'lease')),
    );
    const lostAt = ev.findIndex((e) => e.t === 'lease' && e.phase === 'lost');
    assert.ok(!ev.slice(lostAt).some((e) => e.t === 'finalize'), 'the finaliser did not run');
    assert.ok(!ev.slice(lostAt).some((e) => e.t === 'step' && e.phase === 'start'), 'no step started after the loss');
    const end = ev.at(-1)!;
    assert.ok(end.t === 'end' && end.state === 'Aborted' && /lease is gone/.test(end.error ?? ''), JSON.stringify(end));
    assert.ok(installs < fakeAddrs.length, `${installs} installs`);
  });

  it('an agent unreachable at the start: the rest go on; its lease is taken before its first step, its events follow', async () => {
    const svc = await fakeService({ CanaryNum: 0, Concurrency: 1, MaxFailures: 0, Retries: 2 });
    const fleet = new FakeFleet(fakeAddrs);
    const { deps, stores } = withLeases(fleet, svc);
    const late = fakeAddrs[3];
    let refusals = 1; // the start's take fails; the late take answers
    const agentFor = deps.agentFor;
    deps.agentFor = (b) => {
      const c = agentFor(b);
      if (b.addr !== late) return c;
      const take = c.takeLease.bind(c);
      return Object.assign(c, {
        takeLease: (n: string, r: LeaseRequest) =>
          refusals-- > 0
            ? Promise.reject(new UnreachableError(b.agent, 'cannot reach the agent: ECONNREFUSED'))
            : take(n, r),
      });
    };
    const unleased: string[] = [];
    fleet.onOp = (op, addr) => {
      if (op.startsWith('lb')) return;
      if (!stores.get(addr)!.leases.live(svc.packageName)) unleased.push(`${op} ${addr}`);
    };
    const r = new Rollout(svc, deps, { actor });
    assert.equal(await r.run(), 'ESSuccess');
    assert.deepEqual(unleased, [], 'nothing of an agent was done without the lease there');
    const notes = readJournal(r.journal.file).flatMap((e) => (e.t === 'note' ? [e.text] : []));
    assert.ok(
      notes.some((t) => /could not be reached to take the lease/.test(t)),
      notes.join('\n'),
    );
    assert.ok(notes.some((t) => /answers again: the rollout's lease is taken there now/.test(t)));
    const rec = stores.get(late)!.records.read(svc.packageName)!;
    const kinds = rec.events.map((e) => (e.event as { t: string }).t);
    assert.ok(kinds.includes('plan'), 'the events from before the late take are recorded there too');
    assert.equal(kinds.at(-1), 'end');
    assert.equal(stores.get(late)!.leases.get(svc.packageName), null, 'given back with the others');
  });

  it('an agent that never answers: its backend fails (counted against MaxFailures) and is never touched', async () => {
    const svc = await fakeService({ CanaryNum: 0, Concurrency: 2, MaxFailures: 1, Retries: 1 });
    const fleet = new FakeFleet(fakeAddrs);
    const { deps } = withLeases(fleet, svc);
    const down = fakeAddrs[1];
    const agentFor = deps.agentFor;
    deps.agentFor = (b) =>
      b.addr !== down
        ? agentFor(b)
        : Object.assign(agentFor(b), {
            takeLease: () => Promise.reject(new UnreachableError(b.agent, 'cannot reach the agent: ETIMEDOUT')),
          });
    const touched: string[] = [];
    fleet.onOp = (op, addr) => void (addr === down && !op.startsWith('lb') && touched.push(op));
    const r = new Rollout(svc, deps, { actor });
    assert.equal(await r.run(), 'ESSuccess');
    assert.deepEqual(touched, [], 'the silent agent was asked nothing past its lease');
    assert.equal((await fleet.deps(svc).lb.state(down)).lb, 'serving', 'its backend serves on in the LB');
    const failed = readJournal(r.journal.file).find((e) => e.t === 'backend' && e.result === 'failed');
    assert.match(
      (failed as { error?: string } | undefined)?.error ?? '',
      /^findApp: host .*: cannot reach the agent: ETIMEDOUT/,
    );
  });

  it('a resume breaks its own lease only when its controller died on this machine', () => {
    const me = { user: 'tester', machine: 'box', tool: 'cli' as const, pid: process.pid };
    const terms = { actor: me, rolloutId: 'r1', ttlSecs: 60, resumes: true };
    const lease = (holder: Partial<typeof me>, rolloutId = 'r1') => ({
      holder: { ...me, ...holder },
      rolloutId,
      service: { path: '/s/service.json', sha256: 'a'.repeat(64) },
      sha256: 'b'.repeat(64),
      since: '2026-12-02T00:00:00.000Z',
      expiresAt: '2026-12-02T00:02:00.000Z',
      expiresInSecs: 100,
      expired: false,
      ttlSecs: 60,
    });
    // a pid no process has: above the kernel's pid_max
    const gone = 2 ** 22 + 1;
    assert.equal(deadHolderHere(lease({ pid: gone }) as never, terms), true);
    assert.equal(deadHolderHere(lease({ pid: gone }) as never, { ...terms, resumes: false }), false, 'a new rollout');
    assert.equal(deadHolderHere(lease({ pid: gone }, 'r0') as never, terms), false, 'another rollout');
    assert.equal(deadHolderHere(lease({ pid: gone, machine: 'laptop' }) as never, terms), false, 'another machine');
    assert.equal(deadHolderHere(lease({ pid: process.ppid }) as never, terms), false, 'a live process');
    assert.equal(deadHolderHere(lease({ pid: process.pid }) as never, terms), false, 'this very process');
  });
});
