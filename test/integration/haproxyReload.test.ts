// A reload of HAProxy must not silently undo a drain: without a server-state file it forgets the
// drain, and the adapter sees that (the rollout's jobKill then drains again and journals a note);
// with the state saved to the server-state file first, the drain survives the reload.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { HaproxyLb } from '../../core/lb/haproxy';
import { waitFor } from '../harness/net';
import { HaproxyProcess, startWebApps, type WebApp } from '../harness/webApps';

describe('HAProxy reload and drains (real HAProxy)', function () {
  this.timeout(60_000);
  let apps: WebApp[];
  let h: HaproxyProcess;
  before(async () => {
    apps = await startWebApps(2, `reload-${process.pid}`);
    h = await HaproxyProcess.start(apps.map((a) => a.addr));
  });
  after(async () => {
    await h?.stop();
    await Promise.all((apps ?? []).map((a) => a.stop()));
  });

  it('a reload without saved state brings a drained server back, and state() shows it', async () => {
    const lb = new HaproxyLb(h.socket, 'web');
    await waitFor(async () => assert.equal((await lb.poolHealth()).status, 'PS_FULL'));
    await lb.drain(apps[0].addr);
    assert.equal((await lb.state(apps[0].addr)).lb, 'out');
    await h.restart();
    assert.equal(
      (await lb.state(apps[0].addr)).lb,
      'serving',
      'the reload forgot the drain, and the adapter reports it',
    );
  });

  it('with the server state saved before the reload, the drain survives', async () => {
    const lb = new HaproxyLb(h.socket, 'web');
    await lb.drain(apps[1].addr);
    writeFileSync(h.stateFile, await lb.runtime.send('show servers state'));
    await h.restart();
    assert.equal((await lb.state(apps[1].addr)).lb, 'out');
    await lb.ready(apps[1].addr);
  });
});
