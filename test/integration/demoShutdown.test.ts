// The local fleet (`fleet demo`, the editor's demo, every rollout test fleet) stops front to back:
// the LB stops accepting and finishes what is in flight before the agents and programs stop, so a
// client sending through it meanwhile is refused a connection, and never answered 502.
import assert from 'node:assert/strict';
import { startLoad } from '../harness/load';
import { waitFor } from '../harness/net';
import { rolloutFleet } from '../harness/rolloutFleet';

describe('local fleet shutdown (real LB, agents, web apps)', function () {
  this.timeout(120_000);

  it('under load, stopping the fleet answers no request 502', async () => {
    const f = await rolloutFleet(4);
    const load = startLoad(`${f.proxyUrl}/`, { workers: 8, maxMs: 60_000 });
    try {
      await waitFor(async () => assert.ok(load.current().ok >= 200), 30_000);
      await f.stop();
    } finally {
      await f.stop();
    }
    const r = await load.stop();
    assert.ok(r.ok >= 200, `the load ran (${r.ok} answers)`);
    assert.equal(r.non2xx, 0, `answers other than 2xx: ${r.failures.join(', ')}`);
    for (const e of r.failures) assert.match(e, /^(ECONNREFUSED|ECONNRESET|EPIPE|socket hang up)$/, `failure ${e}`);
  });
});
