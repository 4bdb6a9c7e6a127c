// `fleet demo` as a user runs it (npm run demo), on its fixed loopback ports: the canaried rollout
// under steady traffic through the LB, judged by that traffic. `--flaky` rolls out a build whose
// /healthz answers but every 4th request fails: the canary analysis must stop it with its numbers,
// roll it back, and the demo must stop everything it started either way.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { fleet, scratchHome } from '../harness/cli';

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
}

async function assertAllStopped(): Promise<void> {
  for (const p of [
    9090,
    9091,
    ...Array.from({ length: 8 }, (_, i) => 9092 + i),
    ...Array.from({ length: 8 }, (_, i) => 7092 + i),
  ])
    assert.ok(await portFree(p), `port ${p} is still in use after the demo`);
}

describe('fleet demo (fixed ports 7092-7099, 9090-9099)', function () {
  this.timeout(180_000);

  it('rolls v2 out under traffic: the canary passes its analysis, ESSuccess, exit 0, nothing left running', async () => {
    const r = await fleet(['demo'], { home: scratchHome(), timeoutMs: 150_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /analysis final: PASS; canary \d+ requests, 0\.0 % errors/);
    assert.match(r.stdout, /end state: ESSuccess/);
    assert.match(r.stdout, /demo: \d+ requests went through the LB during the rollout, 0 failed/);
    await assertAllStopped();
  });

  it('--flaky: the canary analysis stops web v2-flaky with its numbers and rolls it back, exit 4', async () => {
    const r = await fleet(['demo', '--flaky'], { home: scratchHome(), timeoutMs: 150_000 });
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /canary analysis failed: canary error rate 2\d\.\d % \(\d+ of \d+\) is over MaxErrorRate 5\.0 %/,
    );
    assert.match(r.stdout, /finaliser: rolled back to/);
    assert.match(r.stdout, /end state: ESCanaryFailure/);
    await assertAllStopped();
  });
});
