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
import { RolloutHeldError } from '../../core/rollout/leases';
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
});
