// One rollout of a service file at a time, across processes and editor windows; the resume rules
// every front end shares.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { UsageError } from '../../core/errors';
import { acquireRolloutLock, lockFileFor, lockHolder, RolloutBusyError } from '../../core/rollout/lock';
import { canResume, resumableJournal } from '../../core/rollout/resume';
import { Rollout } from '../../core/rollout/workflow';
import { fakeService, FakeFleet } from './fakeFleet';

describe('rollout lock and resume rules', () => {
  it('a second rollout of the same file is refused, naming who runs it; released, it may start', async () => {
    const svc = await fakeService();
    const release = acquireRolloutLock(svc.file, 'fleet rollout');
    assert.equal(lockHolder(svc.file)?.pid, process.pid);
    assert.throws(
      () => acquireRolloutLock(svc.file, 'VS Code'),
      (e) =>
        e instanceof RolloutBusyError &&
        new RegExp(`being rolled out by fleet rollout \\(pid ${process.pid}\\)`).test(e.message),
    );
    assert.throws(() => new Rollout(svc, new FakeFleet([]).deps(svc)), RolloutBusyError);
    release();
    assert.equal(existsSync(lockFileFor(svc.file)), false);
    assert.equal(lockHolder(svc.file), null);
  });

  it('a lock whose process is gone (kill -9, a reloaded window) is stale and taken over', async () => {
    const svc = await fakeService();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(dead.stdout);
    acquireRolloutLock(svc.file, 'x')(); // makes the folder
    writeFileSync(
      lockFileFor(svc.file),
      JSON.stringify({ pid, host: hostname(), startTime: 1, since: 'then', by: 'VS Code' }),
    );
    assert.equal(lockHolder(svc.file), null, 'a dead holder holds nothing');
    const release = acquireRolloutLock(svc.file, 'fleet rollout');
    assert.equal(lockHolder(svc.file)?.by, 'fleet rollout');
    release();
  });

  it('resume continues only the same package, only when nobody runs it; Resume is offered only then', async () => {
    const svc = await fakeService({ Concurrency: 1 });
    const w = new FakeFleet(svc.backends.map((b) => b.addr));
    assert.throws(
      () => resumableJournal(svc),
      (e) => e instanceof UsageError && /no rollout journal/.test(e.message),
    );
    const r = new Rollout(svc, w.deps(svc));
    w.onOp = (op, addr) => op === 'install' && addr === svc.backends[2].addr && r.pause();
    assert.equal(await r.run(), 'Paused');
    const ok = resumableJournal(svc);
    assert.equal(ok.progress.status, 'paused');
    assert.ok(canResume(svc, ok.progress));
    const release = acquireRolloutLock(svc.file, 'another window');
    assert.throws(() => resumableJournal(svc), RolloutBusyError);
    assert.equal(canResume(svc, ok.progress), false, 'not while another process runs it');
    release();
    const changed = { ...svc, sha256: 'f'.repeat(64) };
    assert.throws(
      () => resumableJournal(changed),
      (e) => e instanceof UsageError && /rolled out a different package/.test(e.message),
    );
    assert.equal(canResume(changed, ok.progress), false);
  });
});
