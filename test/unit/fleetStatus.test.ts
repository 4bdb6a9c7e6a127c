// fleet status's verdicts, pure: the last successful rollout across agents, which change put each
// backend's package there, drift (behind, changed by hand, forced, missing, unknown), and that a
// change under a rollout's lease is not a change by hand.
import assert from 'node:assert/strict';
import type { Actor, HistoryEntry } from '../../core/protocol/agentRecords';
import type { PackageStatus } from '../../core/protocol/agent';
import type { AgentHistory } from '../../core/rollout/fleetHistory';
import { statusReport, type AgentState } from '../../core/rollout/fleetStatus';
import { fakeService } from './fakeFleet';

const v = (c: string) => c.repeat(64);
const alice: Actor = { user: 'alice', machine: 'm', tool: 'cli', pid: 1 };
let seq = 0;
function entry(o: Partial<HistoryEntry> & Pick<HistoryEntry, 'action'>): HistoryEntry {
  seq++;
  return {
    seq,
    at: new Date(Date.UTC(2026, 11, 2, 10, 0, seq)).toISOString(),
    outcome: 'ok',
    version: null,
    sha256: null,
    rolloutId: null,
    by: alice,
    via: 'unix',
    forced: false,
    ...o,
  };
}
const rollout = (id: string, pkg: string, end: HistoryEntry['outcome'], installed = pkg) => [
  entry({ action: 'lease', rolloutId: id, rolloutSha256: pkg }),
  entry({ action: 'install', rolloutId: id, sha256: installed }),
  entry({ action: 'release', outcome: end, rolloutId: id, rolloutSha256: pkg, sha256: installed }),
];
const running = (sha: string): PackageStatus =>
  ({ sha256: sha, version: sha.slice(0, 4), state: 'running' }) as PackageStatus;

describe('fleet status verdicts', () => {
  it('no drift after a successful rollout; behind and by hand after a rollback by hand; a forced change is by hand', async () => {
    const svc = await fakeService({}, ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']);
    const [a1, a2, a3] = svc.backends.map((b) => b.agent);
    const h1 = [...rollout('R1', v('b'), 'ESSuccess')];
    const h2 = [...rollout('R1', v('b'), 'ESSuccess'), entry({ action: 'rollback', sha256: v('a') })];
    const h3 = [
      ...rollout('R1', v('b'), 'ESSuccess'),
      entry({ action: 'lease', rolloutId: 'R2', rolloutSha256: v('c') }),
      entry({ action: 'restart', forced: true, sha256: v('b'), detail: 'forced (x) while held by …' }),
      entry({ action: 'release', outcome: 'Paused', rolloutId: 'R2', rolloutSha256: v('c') }),
    ];
    const hs: AgentHistory[] = [
      { endpoint: a1, backends: ['10.0.0.1:80'], answer: { package: 'web', entries: h1, pruned: 0 } },
      { endpoint: a2, backends: ['10.0.0.2:80'], answer: { package: 'web', entries: h2, pruned: 0 } },
      { endpoint: a3, backends: ['10.0.0.3:80'], answer: { package: 'web', entries: h3, pruned: 0 } },
    ];
    const states: AgentState[] = [
      { endpoint: a1, status: running(v('b')) },
      { endpoint: a2, status: running(v('a')) },
      { endpoint: a3, status: running(v('b')) },
    ];
    const r = statusReport(svc, states, hs, null);
    assert.equal(r.lastSuccess?.rolloutId, 'R1');
    assert.equal(r.lastSuccess?.sha256, v('b'));
    assert.deepEqual(r.backends[0].drift, []);
    assert.equal(r.backends[0].putThere?.rolloutId, 'R1');
    assert.deepEqual(
      r.backends[1].drift.map((d) => d.kind),
      ['behind', 'manual'],
    );
    assert.deepEqual([r.backends[1].putThere?.rolloutId, r.backends[1].putThere?.action], [null, 'rollback']);
    assert.deepEqual(
      r.backends[2].drift.map((d) => d.kind),
      ['manual'],
    );
    assert.match(r.backends[2].drift[0].detail, /restart \(forced\) by alice@m/);
  });

  it('a later successful rollout clears drift; a failed one is never the baseline; missing and unknown backends', async () => {
    const svc = await fakeService({}, ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']);
    const [a1, a2, a3] = svc.backends.map((b) => b.agent);
    const h1 = [
      ...rollout('R1', v('b'), 'ESSuccess'),
      entry({ action: 'stop' }),
      ...rollout('R3', v('d'), 'ESSuccess'),
      ...rollout('R4', v('e'), 'ESCanaryFailure', v('e')),
      entry({ action: 'rollback', rolloutId: 'R4', sha256: v('d') }),
    ];
    const h2 = [
      ...rollout('R1', v('b'), 'ESSuccess'),
      ...rollout('R3', v('d'), 'ESSuccess'),
      entry({ action: 'remove' }),
    ];
    const hs: AgentHistory[] = [
      { endpoint: a1, backends: ['10.0.0.1:80'], answer: { package: 'web', entries: h1, pruned: 0 } },
      { endpoint: a2, backends: ['10.0.0.2:80'], answer: { package: 'web', entries: h2, pruned: 0 } },
      { endpoint: a3, backends: ['10.0.0.3:80'], error: 'unreachable' },
    ];
    const states: AgentState[] = [
      { endpoint: a1, status: running(v('d')) },
      { endpoint: a2, status: null },
      { endpoint: a3, error: 'connect ECONNREFUSED' },
    ];
    const r = statusReport(svc, states, hs, null);
    assert.equal(r.lastSuccess?.rolloutId, 'R3');
    assert.deepEqual(r.backends[0].drift, [], 'the stop by hand came before R3, the rollback was R4 under its lease');
    assert.deepEqual([r.backends[0].putThere?.rolloutId, r.backends[0].putThere?.action], ['R4', 'rollback']);
    assert.deepEqual(
      r.backends[1].drift.map((d) => d.kind),
      ['missing', 'manual'],
    );
    assert.deepEqual(
      r.backends[2].drift.map((d) => d.kind),
      ['unknown'],
    );
    assert.match(r.warnings.join('\n'), /history not read: unreachable/);
  });
});
