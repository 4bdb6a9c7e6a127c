// The agent's lease and history stores on their own, with the clock in the test's hand: expiry,
// takeover, a repeated take, renewal after expiry, the bound on leases; history's seq across
// restarts, its bound (the oldest pruned, counted), and a torn last line.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryStore, type NewHistoryEntry } from '../../agent/history';
import { HttpError } from '../../agent/httpError';
import { LeaseStore } from '../../agent/leases';
import { recordLimits, type LeaseRequest } from '../../core/protocol/agentRecords';

const req = (id: string, rolloutId = 'r', ttlSecs = 10): LeaseRequest => ({
  leaseId: id.repeat(32).slice(0, 32),
  holder: { user: 'u', machine: 'm', tool: 'cli', pid: 1 },
  rolloutId,
  service: { path: '/s/service.json', sha256: 'a'.repeat(64) },
  sha256: 'b'.repeat(64),
  ttlSecs,
});
const status = (e: unknown) => (e instanceof HttpError ? e.status : -1);

describe('agent lease store (clock injected)', () => {
  let now = 1_000_000;
  const clock = () => now;
  const file = () => join(mkdtempSync(join(tmpdir(), 'leases-')), 'leases.json');

  it('holds a package for ttlSecs by its own clock, then lets another rollout take it over', () => {
    const s = new LeaseStore(file(), clock);
    s.take('web', req('a'));
    now += 9_999;
    assert.throws(
      () => s.take('web', req('b', 'r2')),
      (e) => status(e) === 423,
    );
    assert.equal(s.view('web')?.expiresInSecs, 1);
    now += 1;
    assert.equal(s.view('web')?.expired, true);
    const g = s.take('web', req('b', 'r2'));
    assert.equal(g.tookOver?.rolloutId, 'r');
    assert.equal(g.again, false);
    assert.throws(
      () => s.renew('web', req('a').leaseId),
      (e) => status(e) === 409,
    );
  });

  it('grants the same lease again (a lost answer), and renews an expired lease nobody took', () => {
    const s = new LeaseStore(file(), clock);
    const first = s.take('web', req('c'));
    now += 60_000;
    const again = s.take('web', req('c'));
    assert.equal(again.again, true);
    assert.equal(again.lease.since, first.lease.since);
    now += 60_000;
    assert.equal(s.renew('web', req('c').leaseId).expired, false);
  });

  it('persists leases (a restarted agent keeps them) and skips a damaged record', () => {
    const f = file();
    new LeaseStore(f, clock).take('web', req('d'));
    const text = JSON.parse(readFileSync(f, 'utf8'));
    text.leases.other = { package: 'other', holder: 'nobody' };
    writeFileSync(f, JSON.stringify(text));
    const s = new LeaseStore(f, clock);
    assert.equal(s.view('web')?.rolloutId, 'r');
    assert.equal(s.view('other'), null);
    assert.match(s.problems.join('\n'), /skipped the lease of "other": damaged/);
  });

  it(`holds at most ${recordLimits.leases} live leases; expired ones make room`, () => {
    const s = new LeaseStore(file(), clock);
    for (let i = 0; i < recordLimits.leases; i++) s.take(`p${i}`, req(i.toString(16).padStart(2, '0'), 'r', 2));
    assert.throws(
      () => s.take('one-more', req('f')),
      (e) => status(e) === 507,
    );
    now += 2_000;
    s.take('one-more', req('f'));
    assert.equal(s.view('one-more')?.expired, false);
  });
});

describe('agent history store', () => {
  const entry = (i: number): NewHistoryEntry => ({
    action: 'install',
    outcome: 'ok',
    version: `v${i}`,
    sha256: null,
    rolloutId: null,
    by: null,
    via: 'unix',
    forced: false,
  });

  it('numbers entries across restarts and keeps the newest `max`, counting what it pruned', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hist-'));
    const a = new HistoryStore(dir, () => true, 5);
    for (let i = 1; i <= 7; i++) a.append('web', entry(i));
    const b = new HistoryStore(dir, () => true, 5); // a restarted agent
    for (let i = 8; i <= 23; i++) b.append('web', entry(i));
    const h = b.read('web');
    assert.deepEqual(
      h.entries.map((e) => e.seq),
      [19, 20, 21, 22, 23],
    );
    assert.equal(h.pruned, 18);
    assert.ok(readFileSync(b.file('web'), 'utf8').trim().split('\n').length <= 11, 'the file stays bounded');
    assert.deepEqual(
      b.read('web', 2).entries.map((e) => e.version),
      ['v22', 'v23'],
    );
    assert.equal(b.read('web', 2).pruned, 21);
  });

  it('a torn last line (a crash mid-write) is skipped, and the next entry starts on its own line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hist-'));
    const a = new HistoryStore(dir, () => true, 100);
    a.append('web', entry(1));
    appendFileSync(a.file('web'), '{"seq":2,"at":"2026-');
    const b = new HistoryStore(dir, () => true, 100);
    b.append('web', entry(3));
    const h = b.read('web');
    assert.deepEqual(
      h.entries.map((e) => [e.seq, e.version]),
      [
        [1, 'v1'],
        [2, 'v3'],
      ],
    );
  });

  it(`keeps at most ${recordLimits.recordFiles} packages' files, pruning those neither installed nor leased first`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'hist-'));
    const s = new HistoryStore(dir, (n) => n === 'keep', 10);
    s.append('keep', entry(1));
    for (let i = 0; i < recordLimits.recordFiles + 5; i++) s.append(`p${i}`, entry(i));
    const files = readdirSync(dir);
    assert.ok(files.length <= recordLimits.recordFiles, `${files.length} files`);
    assert.ok(files.includes('keep.jsonl'));
    assert.ok(files.includes(`p${recordLimits.recordFiles + 4}.jsonl`), 'the newest stays');
  });
});
