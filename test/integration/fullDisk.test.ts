// A full disk (a small tmpfs, filled up) under the agent and under a rollout's journal: operations
// fail with a clear error, nothing is half-written, the previous version keeps running, and the
// rollout still puts healthy backends back into the LB.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../core/agentClient/client';
import { Journal, readJournal } from '../../core/rollout/journal';
import { Rollout } from '../../core/rollout/workflow';
import { buildExamples } from '../../examples/build';
import { AgentProcess, killMatching } from '../harness/agentProcess';
import { freePort, httpGet, waitFor } from '../harness/net';
import { Tmpfs } from '../harness/tmpfs';
import { fakeService, FakeFleet } from '../unit/fakeFleet';

describe('a full disk (tmpfs)', function () {
  this.timeout(120_000);
  const tag = `full-${process.pid}`;
  let fs: Tmpfs;
  before(() => (fs = Tmpfs.mount(16 * 1024)));
  after(() => {
    killMatching(tag);
    fs?.unmount();
  });

  it('the agent refuses an install with 507 and the previous version runs on, the same process; all works once space is freed', async () => {
    const zips = await buildExamples(mkdtempSync(join(tmpdir(), 'zips-')));
    const agent = await AgentProcess.start({ dataDir: join(fs.dir, 'agent') });
    const port = await freePort();
    const args = ['--port', String(port), '--node', tag];
    try {
      const c = agent.client();
      const v1 = await c.install('web', zips['web-v1'], { binary: 'web', args });
      await waitFor(async () => assert.match(await httpGet(`http://127.0.0.1:${port}/`), /\(v1\)/), 10_000);
      const filler = fs.fill();
      await assert.rejects(
        c.install('web', zips['web-v2'], { binary: 'web', args }),
        (e) => e instanceof AgentError && e.status === 507 && /disk is full/.test(e.message),
      );
      const still = await c.status('web');
      assert.equal(still.pid, v1.pid, 'the v1 process was never stopped');
      assert.equal(still.sha256, v1.sha256);
      assert.match(await httpGet(`http://127.0.0.1:${port}/`), /\(v1\)/);
      await assert.rejects(c.action('web', 'stop'), (e) => e instanceof AgentError && e.status === 507);
      assert.equal((await c.status('web')).state, 'running', 'a stop that could not be recorded did not happen');
      // a restart on the full disk: state.json loads, the program is adopted
      await agent.kill9();
      await agent.start();
      assert.equal((await agent.client().status('web')).pid, v1.pid);
      rmSync(filler);
      const v2 = await agent.client().install('web', zips['web-v2'], { binary: 'web', args });
      assert.notEqual(v2.sha256, v1.sha256);
      await waitFor(async () => assert.match(await httpGet(`http://127.0.0.1:${port}/`), /\(v2\)/), 10_000);
    } finally {
      await agent.stop();
      killMatching(tag);
    }
  });

  it('a journal append on a full disk throws; once space is back, the next event starts on a fresh line and none is lost', () => {
    const dir = mkdtempSync(join(fs.dir, 'svc-'));
    const j = Journal.create(join(dir, 'service.json'), 'r1');
    j.append({
      t: 'plan',
      id: 'r1',
      file: 'f',
      sha256: 'x',
      canaries: ['a'],
      rest: [],
      concurrency: 1,
      maxFailures: 0,
    });
    const filler = fs.fill();
    let thrown: unknown;
    for (let i = 0; i < 50 && !thrown; i++) {
      try {
        j.append({ t: 'note', backend: 'a', text: 'x'.repeat(4096) });
      } catch (e) {
        thrown = e;
      }
    }
    assert.equal((thrown as NodeJS.ErrnoException)?.code, 'ENOSPC');
    rmSync(filler);
    j.append({ t: 'paused' });
    j.close();
    const torn: number[] = [];
    const events = readJournal(j.file, (line) => torn.push(line));
    assert.equal(events[0].t, 'plan');
    assert.equal(events.at(-1)!.t, 'paused', 'the event after the torn line is read');
    const text = readFileSync(j.file, 'utf8');
    assert.ok(text.endsWith('}\n'), 'the file ends with a whole event');
    assert.equal(JSON.parse(text.trimEnd().split('\n').at(-1)!).t, 'paused');
    assert.ok(torn.length <= 1, `at most the one torn line is skipped (${torn})`);
  });

  it('a rollout whose journal cannot be written stops, and still puts the backends it drained back into the LB', async () => {
    // the journal lives beside service.json: that folder is on the tmpfs
    const onTmpfs = await fakeService({ Concurrency: 1 }, ['10.0.0.1:80', '10.0.0.2:80'], fs.dir);
    const w = new FakeFleet(['10.0.0.1:80', '10.0.0.2:80']);
    let filler = '';
    w.onOp = (op, addr) => {
      if (op === 'install' && addr === '10.0.0.1:80' && !filler) filler = fs.fill();
    };
    const r = new Rollout(onTmpfs, w.deps(onTmpfs));
    await assert.rejects(r.run(), (e: NodeJS.ErrnoException) => e.code === 'ENOSPC');
    rmSync(filler);
    for (const b of w.backends.values())
      if (w.healthy(b.addr)) assert.equal(b.lb, 'serving', `${b.addr} is healthy and back in the LB`);
  });
});
