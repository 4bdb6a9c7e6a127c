import assert from 'node:assert/strict';
import { TimeoutError, UnreachableError } from '../../core/errors';
import { Semaphore, mapLimit } from '../../core/limit';
import type { HostResult } from '../../core/ssh/fanout';
import { formatSummary, groupResults, summarize } from '../../core/ssh/group';
import { shellJoin, shellQuote } from '../../core/ssh/quote';

const r = (host: string, exitCode: number | null, stdout: string, error: HostResult['error'] = null): HostResult => ({
  host,
  exitCode,
  signal: null,
  stdout,
  stderr: '',
  durationMs: 1,
  error,
});

describe('grouping results', () => {
  it('groups identical outputs under their hosts and counts outcomes', () => {
    const results = [
      r('a', 0, 'x\n'),
      r('b', 1, 'x\n'),
      r('c', 0, 'x\n'),
      r('d', null, '', new UnreachableError('d', 'refused')),
      r('e', null, '', new TimeoutError('e', 'command', 2000)),
    ];
    const groups = groupResults(results);
    assert.deepEqual(
      groups.map((g) => g.hosts),
      [['a', 'c'], ['b'], ['d'], ['e']],
    );
    assert.equal(groups[2].error, 'refused');
    assert.equal(formatSummary(summarize(results)), '2 ok, 2 failed, 1 unreachable');
  });
});

describe('remote quoting', () => {
  it('keeps each argument one word', () => {
    assert.equal(shellJoin(['echo', 'a; b']), `echo 'a; b'`);
    assert.equal(shellQuote(`it's`), `'it'\\''s'`);
    assert.equal(shellQuote(''), `''`);
    assert.equal(shellJoin(['uname', '-a']), 'uname -a');
    assert.equal(shellQuote('$(id)'), `'$(id)'`);
  });
});

describe('Semaphore', () => {
  it('never runs more than its limit, even when slots are handed over', async () => {
    const s = new Semaphore(3);
    let now = 0;
    let max = 0;
    await mapLimit(Array.from({ length: 40 }), 40, () =>
      s.run(async () => {
        max = Math.max(max, ++now);
        await new Promise((res) => setTimeout(res, Math.random() * 3));
        now--;
      }),
    );
    assert.equal(max, 3);
    assert.equal(s.peak, 3);
    assert.equal(s.running, 0);
  });

  it('drops a waiter whose signal aborts', async () => {
    const s = new Semaphore(1);
    const release = await s.acquire();
    const ac = new AbortController();
    const waiting = s.acquire(ac.signal);
    ac.abort(new Error('stop'));
    await assert.rejects(waiting, /stop/);
    release();
    assert.equal(s.running, 0);
  });
});
